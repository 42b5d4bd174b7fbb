"""Memory of managed database machine sizes, and AWS parameter formulas.

The memory a managed PostgreSQL server has is fixed by its size name: an RDS instance class
(`db.r6g.large`), a Cloud SQL tier (`db-custom-4-16384`) or an Azure SKU
(`GP_Standard_D4s_v3`). MEM001 compares the worst case of the parameters with it.

Sources (checked 2026-12):
- AWS: "Hardware specifications for DB instance classes", Amazon RDS User Guide
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html):
  burstable db.t3/db.t4g micro 1, small 2, medium 4, large 8, xlarge 16, 2xlarge 32 GiB;
  general purpose db.m5/m6g/m6i/m7g 4 GiB per vCPU (large = 2 vCPU = 8 GiB ... 24xlarge = 384 GiB);
  memory optimized db.r5/r6g/r6i/r7g 8 GiB per vCPU (large = 16 GiB ... 24xlarge = 768 GiB).
  Sizes a family does not offer (db.m6g.24xlarge) are not listed and stay unknown.
- GCP: Cloud SQL tiers, `db-custom-<vCPUs>-<memory MiB>` (the memory is in the name);
  shared-core db-f1-micro 0.6 GB, db-g1-small 1.7 GB (Cloud SQL "Machine series" page).
- Azure: Database for PostgreSQL flexible server compute (learn.microsoft.com
  .../flexible-server/concepts-compute): Burstable B1ms 2 GiB, B2s 4, B2ms 8, B4ms 16, B8ms 32,
  B12ms 48, B16ms 64, B20ms 80; General Purpose D*s/ds/ads_v3..v5 4 GiB per vCore;
  Memory Optimized E*s/ds/ads_v3..v5 8 GiB per vCore (E64 v3/v4: 432 GiB; E96ds_v5/E96ads_v5:
  672 GiB, checked 2026-12 in MicrosoftDocs/azure-databases-docs concepts-compute).

**DBInstanceClassMemory**, the variable of RDS parameter formulas, is *less* than the class's
memory: RDS subtracts what the operating system and its own processes reserve, by an amount
AWS does not publish ("always somewhat lower than the memory in the instance class table",
USER_ParamValuesRef). pgpath assumes the class memory itself, so a formula-derived size
(`shared_buffers = {DBInstanceClassMemory/32768}`) comes out at most that reservation too high:
the memory check errs on the side of reporting.
"""

from __future__ import annotations

import re

GIB = 1024**3

_SIZE_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48,
               "16xlarge": 64, "24xlarge": 96, "32xlarge": 128}
_BURSTABLE = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
# family -> (GiB per vCPU, sizes offered)
_RDS_FAMILIES = {
    "m5": (4, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")),
    "m6g": (4, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")),
    "m6i": (4, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")),
    "m7g": (4, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")),
    "r5": (8, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")),
    "r6g": (8, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")),
    "r6i": (8, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")),
    "r7g": (8, ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")),
}


def rds_class_memory(instance_class: str) -> int | None:
    """Bytes of memory of an RDS DB instance class (`db.r6g.large`), None when not in the table."""
    m = re.fullmatch(r"db\.([a-z0-9]+)\.([a-z0-9]+)", str(instance_class).strip().lower())
    if not m:
        return None
    family, size = m.groups()
    if family in ("t3", "t4g"):
        gib = _BURSTABLE.get(size)
        return None if gib is None else gib * GIB
    spec = _RDS_FAMILIES.get(family)
    if spec is None or size not in spec[1]:
        return None
    return spec[0] * _SIZE_VCPUS[size] * GIB


def cloudsql_tier_memory(tier: str) -> int | None:
    """Bytes of memory of a Cloud SQL tier (`db-custom-2-7680`, `db-f1-micro`), None when unknown."""
    tier = str(tier).strip().lower()
    m = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if m:
        from advisor.units import MAX_RAM_BYTES

        # no machine has 1 EiB: such a tier does not exist (and 400 digits overflowed format_bytes)
        mib = int(m.group(2)) if len(m.group(2)) <= 15 else MAX_RAM_BYTES
        return mib * 1024**2 if mib * 1024**2 < MAX_RAM_BYTES else None
    return {"db-f1-micro": int(0.6 * 1000**3), "db-g1-small": int(1.7 * 1000**3)}.get(tier)


_AZ_BURSTABLE = {"b1ms": 2, "b2s": 4, "b2ms": 8, "b4ms": 16, "b8ms": 32, "b12ms": 48, "b16ms": 64, "b20ms": 80}


def azure_sku_memory(sku: str) -> int | None:
    """Bytes of memory of an Azure flexible-server SKU (`Standard_D4s_v3`, `GP_Standard_D4s_v3`)."""
    name = str(sku).strip().lower()
    name = re.sub(r"^(b|gp|mo)_", "", name)
    name = name.removeprefix("standard_")
    if name in _AZ_BURSTABLE:
        return _AZ_BURSTABLE[name] * GIB
    m = re.fullmatch(r"([de])(\d+)(s|ds|ads)_v([345])", name)
    if not m:
        return None
    series, cores = m.group(1), int(m.group(2))
    if series == "e" and cores == 64 and m.group(4) in ("3", "4"):
        return 432 * GIB
    if series == "e" and cores == 96:
        return 672 * GIB  # E96ds_v5 / E96ads_v5: 672 GiB, not 8 per vCore (concepts-compute)
    return (4 if series == "d" else 8) * cores * GIB


# ------------------------------------------------------------------------------------------------
# RDS parameter formulas: {DBInstanceClassMemory/32768}, LEAST({DBInstanceClassMemory/9531392},5000),
# GREATEST(...), SUM(...), IF(...), log(...), negative numbers (SUM({DBInstanceClassMemory/12038},-50003)).
# Division and multiplication truncate to integers.

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\S))")


class FormulaError(Exception):
    pass


def is_formula(text: str) -> bool:
    return "{" in text or bool(re.match(r"\s*(LEAST|GREATEST|SUM|IF|log)\s*\(", text))


def evaluate(text: str, variables: dict[str, int]) -> int:
    """The integer a parameter formula gives; FormulaError when it cannot be evaluated."""
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(1):
            tokens.append(("num", int(m.group(1))))
        elif m.group(2):
            tokens.append(("name", m.group(2)))
        elif m.group(3):
            tokens.append(("op", m.group(3)))
    if text[pos:].strip():
        raise FormulaError(f"cannot read {text!r}")
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else ("end", None)

    def take(kind=None, value=None):
        nonlocal i
        tok = peek()
        if (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise FormulaError(f"unexpected {tok[1]!r} in {text!r}")
        i += 1
        return tok

    def expr():  # term (('*'|'/') term)*
        value = term()
        while peek() in (("op", "*"), ("op", "/")):
            op = take()[1]
            right = term()
            if op == "*":
                value = value * right
            else:
                if right == 0:
                    raise FormulaError(f"division by zero in {text!r}")
                value = value // right
        return value

    def term():
        tok = peek()
        if tok == ("op", "{"):
            take()
            value = expr()
            take("op", "}")
            return value
        if tok[0] == "num":
            return take()[1]
        if tok == ("op", "-"):
            # a negative argument: Aurora PostgreSQL's shared_buffers default is
            # SUM({DBInstanceClassMemory/12038},-50003)
            take()
            return -term()
        if tok[0] == "name":
            name = take()[1]
            if peek() == ("op", "("):
                take()
                args = [expr()]
                while peek() == ("op", ","):
                    take()
                    args.append(expr())
                take("op", ")")
                return _call(name, args, text)
            if name not in variables:
                raise FormulaError(f"{name} is not known here")
            return variables[name]
        raise FormulaError(f"unexpected {tok[1]!r} in {text!r}")

    value = expr()
    if i != len(tokens):
        raise FormulaError(f"unexpected {tokens[i][1]!r} in {text!r}")
    return value


def _call(name: str, args: list[int], text: str) -> int:
    if name == "LEAST":
        return min(args)
    if name == "GREATEST":
        return max(args)
    if name == "SUM":
        return sum(args)
    if name == "IF" and len(args) == 3:
        return args[1] if args[0] else args[2]
    if name == "log" and len(args) == 1 and args[0] > 0:
        import math

        return int(math.log2(args[0]))
    raise FormulaError(f"function {name} with {len(args)} argument(s) in {text!r}")
