"""The reader's fast path for builtin options tables (scalar fields read straight
from the vtable, see schema._scalar_plan) gives what the generated accessors give,
for every options table of the schema: with every field absent (the schema
defaults) and with every field set to a value other than its default."""
import flatbuffers
import flatbuffers.table
import numpy as np
import pytest

from tinylite.flatbuffer.schema import OPTIONS2_NAMES, OPTIONS_NAMES, OptionsTable, options_table

TABLES = sorted({name for name in list(OPTIONS_NAMES.values()) + list(OPTIONS2_NAMES.values())
                 if name and name != "NONE"})


def _tables():
    out = []
    for name in TABLES:
        try:
            t = options_table(name)
        except ImportError:
            continue
        if isinstance(t, OptionsTable):
            out.append(t)
    return out


def _slow_read(table: OptionsTable, tab) -> dict:
    saved, table.plan = table.plan, None
    try:
        return table.read(tab)
    finally:
        table.plan = saved


def _written(table: OptionsTable, values: dict):
    b = flatbuffers.Builder(256)
    b.Finish(table.write(b, values))
    buf = bytes(b.Output())
    pos = flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0)
    return flatbuffers.table.Table(buf, pos)


def _other_value(table: OptionsTable, field, default):
    """A value of the field's type that differs from its default."""
    accessor = getattr(table.cls, field.accessor)
    flags = [n for n in accessor.__code__.co_names if n.endswith("Flags") and n != "UOffsetTFlags"][0]
    if flags == "BoolFlags":
        return not default
    if flags.startswith("Float"):
        return float(default) + 1.5
    return int(default) + (3 if flags.startswith(("Int", "Uint")) else 1)


def test_most_tables_take_the_fast_path():
    tables = _tables()
    fast = [t for t in tables if t.plan is not None]
    scalar_only = [t for t in tables if all(f.kind == "scalar" for f in t.fields)]
    assert len(tables) > 100 and fast == scalar_only


@pytest.mark.parametrize("table", [t for t in _tables() if t.plan is not None], ids=lambda t: t.table_name)
def test_fast_read_matches_the_generated_accessors(table):
    empty = _written(table, {})
    defaults = _slow_read(table, empty)
    assert table.read(empty) == defaults
    values = {f.name: _other_value(table, f, defaults[f.name]) for f in table.fields}
    tab = _written(table, values)
    got, want = table.read(tab), _slow_read(table, tab)
    assert got == want
    for k, v in got.items():
        assert type(v) is type(want[k]), k
        assert v == pytest.approx(values[k]) if isinstance(v, float) else v == values[k], k
    assert np.all([k in got for k in values])
