"""Properties of the list readers: any customer tree survives every format unchanged."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from listfiles import iif, qbo_customers, qbo_export_csv, qbo_json, qbxml

from qbrecon import read_qb_lists
from qbrecon import schema as S

NAME_CHARS = st.characters(
    whitelist_categories=("Lu", "Ll", "Lo", "Nd", "Pd", "Po", "Ps", "Pe", "Sm", "Sc"),
    blacklist_characters=':"\t\n\r\x85\u2028\u2029',
)


@st.composite
def customer_trees(draw):
    """(id, full_name, active) records: up to 5 levels, unique full names, parents first or not."""
    n = draw(st.integers(min_value=1, max_value=12))
    nodes: list[tuple[str, int]] = []  # (full name, depth)
    for i in range(n):
        base = draw(st.text(NAME_CHARS, min_size=1, max_size=12))
        name = unicodedata.normalize("NFC", f"{base} {i}")
        parents = [j for j, (_, depth) in enumerate(nodes) if depth < 4]
        parent = draw(st.none() | st.sampled_from(parents)) if parents else None
        full = name if parent is None else f"{nodes[parent][0]}:{name}"
        nodes.append((full, 0 if parent is None else nodes[parent][1] + 1))
    actives = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    records = [(str(i + 1), full, active) for i, ((full, _), active) in enumerate(zip(nodes, actives, strict=True))]
    return draw(st.permutations(records))  # files list children before parents too


WRITERS = {
    "Customer.json": lambda cs: qbo_json("Customer", qbo_customers(cs)),
    "nofqn.json": lambda cs: qbo_json("Customer", qbo_customers(cs, fqn=False)),
    "lists.iif": lambda cs: iif(cs, encoding="utf-8"),
    "CustomerQueryRs.xml": lambda cs: qbxml(cs, pages=2),
    "Customers.csv": qbo_export_csv,
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=customer_trees())
def test_any_customer_tree_round_trips_through_every_format(tree):
    expected = sorted((full, full.count(":"), active) for _, full, active in tree)
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in WRITERS.items():
            path = Path(tmp) / name
            path.write_bytes(write(list(tree)))
            c = read_qb_lists(path).customers
            got = sorted(zip(c[S.FULL_NAME], c[S.LEVEL], c[S.ACTIVE], strict=True))
            assert got == expected, name
            # every child points at the record whose full name is its prefix
            full_of = dict(zip(c[S.QB_ID], c[S.FULL_NAME], strict=True))
            for r in c.itertuples():
                assert (full_of[r.parent_id] + ":" + r.name == r.full_name) if r.level else r.parent_id == ""


@settings(max_examples=10, deadline=None)
@given(tree=customer_trees())
def test_reading_is_independent_of_file_order(tree):
    with tempfile.TemporaryDirectory() as tmp:
        half = len(tree) // 2
        a, b = Path(tmp) / "a.json", Path(tmp) / "b.json"
        recs = qbo_customers(list(tree))
        a.write_bytes(qbo_json("Customer", recs[:half]))
        b.write_bytes(qbo_json("Customer", recs[half:]))
        one = read_qb_lists([a, b]).customers
        two = read_qb_lists([b, a]).customers
        assert one.equals(two)
