"""Prometheus text exposition (format 0.0.4) for the node exporter's textfile collector.

Names follow Prometheus's rules: a ``partnermail_`` prefix, base units in the name (``_seconds``, times as
``_timestamp_seconds``), ``_total`` only on counters. Each family gets one HELP and one TYPE line, its samples
sorted by labels; label values are escaped (backslash, double quote, newline).
"""

import math
import os

from .files import write_atomic

GAUGE = "gauge"
COUNTER = "counter"


class Family:
    def __init__(self, name, kind, help_text):
        self.name = name
        self.kind = kind
        self.help = help_text
        self.samples = []  # (labels tuple of pairs, value)

    def add(self, value, **labels):
        self.samples.append((tuple(sorted(labels.items())), value))
        return self


def escape_label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def render(families):
    """The exposition text of the families (in the order given); families without samples are left out."""
    lines = []
    for family in families:
        if not family.samples:
            continue
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in sorted(family.samples, key=lambda sample: sample[0]):
            text = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels)
            lines.append(f"{family.name}{{{text}}} {format_value(value)}" if text else
                         f"{family.name} {format_value(value)}")
    return "".join(f"{line}\n" for line in lines)


def write_textfile(path, text):
    """Write the .prom file atomically (the collector must never read half of one), mode 0644.

    The temporary name starts with a dot and ends in .tmp: the collector reads only ``*.prom``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"directory {directory} does not exist")
    write_atomic(path, text.encode("utf-8"), mode=0o644)
