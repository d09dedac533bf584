"""A strict parser for the Prometheus text exposition format 0.0.4, for
checking what /metrics serves. It accepts only what the format allows and
raises ValueError naming the line otherwise.

parse(text) -> (families, samples)
  families: {name: {"type": ..., "help": ...}}
  samples:  {(sample name, ((label, value), ...) sorted): float}
"""

import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
NAME_RE = re.compile(NAME)
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z")


def _value(text, where):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not FLOAT_RE.match(text):
        raise ValueError(f"{where}: bad value {text!r}")
    return float(text)


def _labels(text, pos, where):
    """Parses {a="x",b="y"} starting at text[pos] == '{'. Returns (labels,
    position after '}')."""
    labels = []
    pos += 1
    while True:
        if pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        m = re.compile(LABEL).match(text, pos)
        if not m:
            raise ValueError(f"{where}: bad label name at column {pos}")
        name = m.group(0)
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise ValueError(f"{where}: expected =\" after label {name}")
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ValueError(f"{where}: unterminated label value")
            ch = text[pos]
            if ch == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt == "n":
                    value.append("\n")
                elif nxt in ("\\", '"'):
                    value.append(nxt)
                else:
                    raise ValueError(f"{where}: bad escape \\{nxt} in label value")
                pos += 2
            elif ch == '"':
                pos += 1
                break
            elif ch == "\n":
                raise ValueError(f"{where}: newline in label value")
            else:
                value.append(ch)
                pos += 1
        if name in dict(labels):
            raise ValueError(f"{where}: label {name} repeated")
        labels.append((name, "".join(value)))
        if text[pos:pos + 1] == ",":
            pos += 1
        elif text[pos:pos + 1] != "}":
            raise ValueError(f"{where}: expected , or }} after label {name}")


def _family_of(sample_name, families):
    """The family a sample belongs to (histogram/summary suffixes)."""
    if sample_name in families:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if families.get(base, {}).get("type") in ("histogram", "summary"):
                if suffix == "_bucket" and families[base]["type"] != "histogram":
                    continue
                return base
    return sample_name


def parse(text):
    if text and not text.endswith("\n"):
        raise ValueError("the last line does not end with a newline")
    families = {}
    samples = {}
    seen_samples_of = set()  # families whose samples have started
    closed = set()  # families whose samples are over (another family began)
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {lineno}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME_RE.fullmatch(parts[2]):
                    raise ValueError(f"{where}: bad metric name in {parts[1]}")
                name = parts[2]
                fam = families.setdefault(name, {"type": None, "help": None})
                if name in seen_samples_of:
                    raise ValueError(f"{where}: {parts[1]} for {name} after its samples")
                if parts[1] == "TYPE":
                    if fam["type"] is not None:
                        raise ValueError(f"{where}: second TYPE for {name}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError(f"{where}: bad type in {line!r}")
                    fam["type"] = parts[3]
                else:
                    if fam["help"] is not None:
                        raise ValueError(f"{where}: second HELP for {name}")
                    fam["help"] = parts[3] if len(parts) == 4 else ""
            continue  # any other comment
        m = NAME_RE.match(line)
        if not m:
            raise ValueError(f"{where}: bad metric name")
        name = m.group(0)
        pos = m.end()
        labels = []
        if line[pos:pos + 1] == "{":
            labels, pos = _labels(line, pos, where)
        rest = line[pos:]
        if not rest.startswith(" "):
            raise ValueError(f"{where}: expected a space before the value")
        fields = rest.split()
        if len(fields) not in (1, 2):
            raise ValueError(f"{where}: expected a value and an optional timestamp")
        value = _value(fields[0], where)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise ValueError(f"{where}: bad timestamp {fields[1]!r}")
        family = _family_of(name, families)
        if family in closed:
            raise ValueError(f"{where}: samples of {family} are not grouped together")
        if current is not None and current != family:
            closed.add(current)
        current = family
        seen_samples_of.add(family)
        ftype = families.get(family, {}).get("type")
        if ftype == "counter" and not value >= 0:
            raise ValueError(f"{where}: counter {name} is {value}")
        if ftype == "histogram" and name == family:
            raise ValueError(f"{where}: histogram {family} has a bare sample")
        key = (name, tuple(sorted(labels)))
        if key in samples:
            raise ValueError(f"{where}: duplicate series {name}{dict(labels)}")
        samples[key] = value
    _check_histograms(families, samples)
    return families, samples


def _check_histograms(families, samples):
    for family, info in families.items():
        if info["type"] != "histogram":
            continue
        groups = {}
        for (name, labels), value in samples.items():
            if name != family + "_bucket":
                continue
            other = tuple(kv for kv in labels if kv[0] != "le")
            les = [v for k, v in labels if k == "le"]
            if len(les) != 1:
                raise ValueError(f"{family}: a bucket without le")
            groups.setdefault(other, []).append((_value(les[0], family), value))
        if not groups:
            raise ValueError(f"{family}: histogram without buckets")
        for other, buckets in groups.items():
            buckets.sort()
            if buckets[-1][0] != math.inf:
                raise ValueError(f"{family}: no +Inf bucket")
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise ValueError(f"{family}: buckets are not cumulative: {buckets}")
            count = samples.get((family + "_count", other))
            total = samples.get((family + "_sum", other))
            if count is None or total is None:
                raise ValueError(f"{family}: _count or _sum missing")
            if count != buckets[-1][1]:
                raise ValueError(f"{family}: _count {count} != +Inf bucket {buckets[-1][1]}")
