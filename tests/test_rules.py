"""Validation rules: one table of cases per rule (frame in, failure rows out), rounding at
the interval edges, the settings object, and the properties that must always hold."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbrecon import QBLists, Rounding, Rules, validate
from qbrecon import schema as S
from qbrecon.errors import InputError, SettingsError
from qbrecon.rules import RULE_IDS, round_durations, split_entries
from qbrecon.testing import make_entries, make_mapping

MAPPING = make_mapping(
    employee={"Ada": ("55", "Ada Lovelace"), "Bob": ("56", "Bob Vendor", "Vendor"), "Zed": ""},
    customer={"Acme:Site": ("7", "Acme:Site"), "Web": ("8", "Web Co")},
    item={"Dev": ("I1", "Development")},
)
OK = {"user": "Ada", "client": "Acme", "project": "Site"}


def failures_of(rule, rows, mapping=MAPPING, lists=None, **rules):
    report = validate(make_entries(rows), mapping, rules=Rules(**rules), lists=lists)
    f = report.failures[report.failures[S.RULE] == rule]
    return [tuple(r) for r in f[[S.ENTRY_ID, S.MESSAGE]].itertuples(index=False)]


# ------------------------------------------------------------------- per rule
NOT_BILLABLE = [
    ([OK, {**OK, "billable": False}], {}, [("e2", "not billable (only billable time is sent)")]),
    ([{**OK, "billable": False}], {"require_billable": False}, []),
    ([OK], {}, []),
]


@pytest.mark.parametrize("rows, rules, expected", NOT_BILLABLE)
def test_not_billable(rows, rules, expected):
    assert failures_of("not_billable", rows, **rules) == expected


NO_PROJECT = [
    ([{"user": "Ada"}], {}, [("e1", "billable but has no project")]),
    (
        [{"user": "Ada", "client": "Acme"}],
        {},
        [("e1", "billable but has no project (client 'Acme')")],
    ),
    ([{"user": "Ada", "billable": False}], {"require_billable": False}, []),
    ([{"user": "Ada"}], {"require_project": False}, []),
    ([OK, {"user": "Ada", "project": "Web"}], {}, []),
]


@pytest.mark.parametrize("rows, rules, expected", NO_PROJECT)
def test_no_project(rows, rules, expected):
    assert failures_of("no_project", rows, **rules) == expected


TOO_LONG = [
    ([{**OK, "duration": "23:55"}], {}, []),
    ([{**OK, "duration": "23:55:29"}], {}, []),  # sent as 23:55: the whole minute QuickBooks stores
    (
        [{**OK, "duration": "23:55:30"}],
        {},
        [("e1", "lasts 23:56 after rounding (23:55:30 tracked), over the 23:55 limit")],
    ),
    ([{**OK, "duration": "23:56"}], {}, [("e1", "lasts 23:56, over the 23:55 limit")]),
    ([{**OK, "duration": "30:00"}], {}, [("e1", "lasts 30:00, over the 23:55 limit")]),
    (
        [{**OK, "duration": "23:50"}],
        {"rounding": "up:15"},
        [("e1", "lasts 24:00 after rounding (23:50 tracked), over the 23:55 limit")],
    ),
    ([{**OK, "duration": "23:58"}], {"max_duration": "23:59"}, []),
    (
        [{**OK, "duration": "8:01"}],
        {"max_duration": "8:00"},
        [("e1", "lasts 8:01, over the 8:00 limit")],
    ),
]


@pytest.mark.parametrize("rows, rules, expected", TOO_LONG)
def test_too_long(rows, rules, expected):
    assert failures_of("too_long", rows, **rules) == expected


def test_too_long_has_its_limit_in_the_name():
    assert [r.name for r in Rules(max_duration="8:00").rules() if r.id == "too_long"] == [
        "too_long(8:00)"
    ]


ZERO = [
    ([{**OK, "duration": "0:00"}], {}, [("e1", "lasts 0:00")]),
    ([{**OK, "duration": "0:00:29"}], {}, [("e1", "lasts 0:00:29, which rounds to 0:00")]),
    ([{**OK, "duration": "0:00:30"}], {}, []),
    (
        [{**OK, "duration": "0:14:59"}],
        {"rounding": Rounding("down", 15)},
        [("e1", "lasts 0:14:59, which rounds to 0:00")],
    ),
    ([{**OK, "duration": "0:00:01"}], {"rounding": Rounding("up", 15)}, []),
    ([{**OK, "duration": "-0:05"}], {}, [("e1", "has a negative duration (-0:05)")]),
]


@pytest.mark.parametrize("rows, rules, expected", ZERO)
def test_zero_duration(rows, rules, expected):
    assert failures_of("zero_duration", rows, **rules) == expected


NO_EMPLOYEE = [
    ([{**OK, "user": "Eve"}], [("e1", "user 'Eve' is not in the mapping")]),
    ([{**OK, "user": ""}], [("e1", "has no user")]),
    (
        [{**OK, "user": "Zed"}],
        [("e1", "user 'Zed' is marked in the mapping as having no QuickBooks match")],
    ),
    (
        [{**OK, "user": "  ada "}, {**OK, "user": "BOB"}],
        [],
    ),  # names compare trimmed and case-folded
]


@pytest.mark.parametrize("rows, expected", NO_EMPLOYEE)
def test_no_employee_match(rows, expected):
    assert failures_of("no_employee_match", rows) == expected


NO_CUSTOMER = [
    (
        [{"user": "Ada", "client": "Acme", "project": "Other"}],
        {},
        [("e1", "customer 'Acme:Other' is not in the mapping")],
    ),
    (
        [{"user": "Ada", "project": "Web"}, {"user": "Ada", "client": "ACME ", "project": " site"}],
        {},
        [],
    ),
    (
        [{"user": "Ada", "client": "Nowhere"}],
        {"require_project": False},
        [],
    ),  # no project: no customer
    (
        [{"user": "Ada", "billable": False}],
        {"require_billable": False},
        [],
    ),  # no customer: none needed
    ([{"user": "Ada", "project": "Site"}], {}, [("e1", "customer 'Site' is not in the mapping")]),
]


@pytest.mark.parametrize("rows, rules, expected", NO_CUSTOMER)
def test_no_customer_match(rows, rules, expected):
    assert failures_of("no_customer_match", rows, **rules) == expected


NO_ITEM = [
    ([{**OK, "task": "Dev"}], {"target": "qbd"}, []),
    (
        [{**OK, "task": "Other"}],
        {"target": "qbd"},
        [
            (
                "e1",
                "billable but has no service item: task 'Other' is not mapped to an item and no "
                "default_item is set",
            )
        ],
    ),
    (
        [OK],
        {"target": "iif"},
        [("e1", "billable but has no service item: it has no task and no default_item is set")],
    ),
    ([{**OK, "task": "Other"}], {"target": "qbd", "default_item": "Consulting"}, []),
    ([{**OK, "task": "Other"}], {"target": "qbo"}, []),  # QuickBooks Online has its own default
    ([{**OK, "billable": False}], {"target": "qbd", "require_billable": False}, []),
]


@pytest.mark.parametrize("rows, rules, expected", NO_ITEM)
def test_no_service_item(rows, rules, expected):
    assert failures_of("no_service_item", rows, **rules) == expected


def _lists():
    def frame(ids, names, active, **extra):
        n = len(ids)
        return pd.DataFrame(
            {
                "qb_id": ids,
                "name": names,
                "full_name": names,
                "parent_id": [""] * n,
                "level": [0] * n,
                "active": active,
                **extra,
            }
        )

    return QBLists(
        employees=frame(["55", "57"], ["Lovelace, Ada", "Carl Old"], [True, False]),
        vendors=frame(["56"], ["Bob Vendor"], [True]),
        customers=frame(["7", "8"], ["Acme Corp:Site", "Web Co"], [True, False]),
        items=frame(
            ["I1", "I2"], ["Development", "Consulting"], [False, True], item_type=["Service"] * 2
        ),
    )


RECORD_MAPPING = make_mapping(
    employee={
        "Ada": "55",
        "Bob": ("56", "Bob", "Vendor"),
        "Carl": "57",
        "Gone": ("99", "Gone Person"),
    },
    customer={"Acme:Site": "7", "Web": "8", "Old": "77"},
    item={"Dev": "I1"},
)
RECORDS = [
    (
        "missing_record",
        [{**OK, "user": "Gone"}],
        [
            (
                "e1",
                "user 'Gone' is mapped to QuickBooks id 99 (Gone Person), which is not in the employee "
                "and vendor list",
            )
        ],
    ),
    (
        "missing_record",
        [{"user": "Ada", "project": "Old"}],
        [
            (
                "e1",
                "customer 'Old' is mapped to QuickBooks id 77 (Old), which is not in the customer list",
            )
        ],
    ),
    (
        "inactive_record",
        [{**OK, "user": "Carl"}],
        [("e1", "user 'Carl' is mapped to inactive QuickBooks employee 'Carl Old' (id 57)")],
    ),
    (
        "inactive_record",
        [{"user": "Carl", "project": "Web", "task": "Dev"}],
        [
            (
                "e1",
                "user 'Carl' is mapped to inactive QuickBooks employee 'Carl Old' (id 57); "
                "customer 'Web' is mapped to inactive QuickBooks customer 'Web Co' (id 8); "
                "task 'Dev' is mapped to inactive QuickBooks item 'Development' (id I1)",
            )
        ],
    ),
    ("inactive_record", [OK, {**OK, "user": "Bob"}], []),
]


@pytest.mark.parametrize("rule, rows, expected", RECORDS)
def test_missing_and_inactive_records(rule, rows, expected):
    assert failures_of(rule, rows, mapping=RECORD_MAPPING, lists=_lists()) == expected


def test_record_rules_need_lists():
    rows = [{**OK, "user": "Carl"}]
    assert failures_of("inactive_record", rows, mapping=RECORD_MAPPING) == []
    assert "inactive_record" not in [r.id for r in Rules().rules(lists=False)]


def test_lists_supply_full_names_and_the_person_list():
    report = validate(make_entries([OK, {**OK, "user": "Bob"}]), RECORD_MAPPING, lists=_lists())
    c = report.clean
    assert c[S.EMPLOYEE_NAME].tolist() == ["Lovelace, Ada", "Bob Vendor"]
    assert c[S.NAME_OF].tolist() == ["Employee", "Vendor"]
    assert c[S.CUSTOMER_NAME].tolist() == ["Acme Corp:Site"] * 2


def test_default_item_resolves_through_the_lists():
    rules = Rules(default_item="consulting", target="qbd")
    report = validate(
        make_entries([{**OK, "task": "Other"}]), RECORD_MAPPING, rules=rules, lists=_lists()
    )
    assert report.clean[[S.ITEM_ID, S.ITEM_NAME]].values.tolist() == [["I2", "Consulting"]]
    with pytest.raises(
        SettingsError, match="default_item 'Nothing' is not in the QuickBooks item list"
    ):
        validate(
            make_entries([OK]), RECORD_MAPPING, rules=Rules(default_item="Nothing"), lists=_lists()
        )


NOT_APPROVED = [
    (
        [{**OK, "approved": True}, {**OK, "approved": False}, OK],
        {"require_approved": True},
        [("e2", "not approved"), ("e3", "approval unknown: the export does not say")],
    ),
    ([{**OK, "approved": False}], {}, []),
]


@pytest.mark.parametrize("rows, rules, expected", NOT_APPROVED)
def test_not_approved(rows, rules, expected):
    assert failures_of("not_approved", rows, **rules) == expected


def test_severity_can_switch_a_rule_on_as_a_warning():
    report = validate(
        make_entries([{**OK, "approved": False}]),
        MAPPING,
        rules=Rules(severity={"not_approved": "warning"}),
    )
    assert report.failures[[S.RULE, S.SEVERITY]].values.tolist() == [["not_approved", "warning"]]
    assert len(report.clean) == 1 and report.ok


OUTSIDE = [
    (
        [{**OK, "date": d} for d in ("2026-10-31", "2026-11-01", "2026-11-15", "2026-11-16")],
        [
            ("e1", "dated 2026-10-31, outside the period 2026-11-01 to 2026-11-15"),
            ("e4", "dated 2026-11-16, outside the period 2026-11-01 to 2026-11-15"),
        ],
    ),
]


@pytest.mark.parametrize("rows, expected", OUTSIDE)
def test_outside_period(rows, expected):
    assert (
        failures_of("outside_period", rows, period=("2026-11-01", date(2026, 11, 15))) == expected
    )
    assert failures_of("outside_period", rows) == []


MISSING_RATE = [
    (
        [{**OK, "billable_rate": np.nan}, {**OK, "billable_rate": 0.0}],
        {"rate_fallback": ()},
        [("e1", "billable but has no hourly rate")],
    ),
    ([{**OK, "billable": False, "billable_rate": np.nan}], {"require_billable": False}, []),
    ([{**OK, "billable_rate": np.nan}], {"target": "qbd"}, []),
    ([{**OK, "billable_rate": np.nan}], {"require_rate": False}, []),
    (
        [{**OK, "billable_rate": np.nan}],
        {"target": "iif", "require_rate": True, "rate_fallback": []},
        [("e1", "billable but has no hourly rate")],
    ),
]


@pytest.mark.parametrize("rows, rules, expected", MISSING_RATE)
def test_missing_rate(rows, rules, expected):
    assert failures_of("missing_rate", rows, **rules) == expected


DESCRIPTION = [
    (
        "qbo",
        None,
        [3981, 3982],
        [
            (
                "e2",
                "description has 3,982 characters, over the 3,981 limit "
                "(4,000 in QuickBooks, less 19 for qbrecon's marker)",
            )
        ],
    ),
    (
        "qbd",
        None,
        [4076, 4077],
        [
            (
                "e2",
                "description has 4,077 characters, over the 4,076 limit "
                "(4,095 in QuickBooks, less 19 for qbrecon's marker)",
            )
        ],
    ),
    ("iif", None, [1000, 1001], [("e2", "description has 1,001 characters, over the 1,000 limit")]),
    ("qbo", 10, [10, 11], [("e2", "description has 11 characters, over the 10 limit")]),
]


@pytest.mark.parametrize("target, limit, lengths, expected", DESCRIPTION)
def test_description_too_long(target, limit, lengths, expected):
    rows = [{**OK, "description": "x" * n, "task": "Dev"} for n in lengths]
    assert (
        failures_of("description_too_long", rows, target=target, max_description=limit) == expected
    )


CLOSED = [
    (
        [{**OK, "date": "2026-10-31"}, {**OK, "date": "2026-11-01"}],
        "2026-10-31",
        [("e1", "dated 2026-10-31, on or before the closing date 2026-10-31")],
    ),
    ([{**OK, "date": "2026-10-31"}], None, []),
]


@pytest.mark.parametrize("rows, close, expected", CLOSED)
def test_closed_books(rows, close, expected):
    assert failures_of("closed_books", rows, close_date=close) == expected


def _at(start, duration, user="Ada"):
    return {**OK, "user": user, "start": f"2026-11-02 {start}", "duration": duration}


OVERLAP = [
    (
        [_at("09:00", "1:30"), _at("10:00", "1:00")],
        [
            ("e1", "overlaps entry e2 (2026-11-02 10:00–11:00) by 0:30"),
            ("e2", "overlaps entry e1 (2026-11-02 09:00–10:30) by 0:30"),
        ],
    ),
    ([_at("09:00", "1:00"), _at("10:00", "1:00")], []),  # touching is not overlapping
    ([_at("09:00", "2:00"), _at("10:00", "1:00", user="Bob")], []),  # different users
    (
        [_at("09:00", "8:00"), _at("10:00", "1:00"), _at("12:00", "1:00")],
        [
            ("e1", "overlaps entry e2 (2026-11-02 10:00–11:00) by 1:00"),
            ("e2", "overlaps entry e1 (2026-11-02 09:00–17:00) by 1:00"),
            ("e3", "overlaps entry e1 (2026-11-02 09:00–17:00) by 1:00"),
        ],
    ),
    ([{**OK, "duration": "5:00"}, {**OK, "duration": "5:00"}], []),  # no clock times: cannot tell
]


@pytest.mark.parametrize("rows, expected", OVERLAP)
def test_overlap(rows, expected):
    assert failures_of("overlap", rows) == expected


def test_overlap_is_a_warning_that_keeps_the_entries():
    report = validate(make_entries(OVERLAP[0][0]), MAPPING)
    assert set(report.failures[S.SEVERITY]) == {"warning"}
    assert len(report.clean) == 2 and report.ok


def test_an_entry_fails_every_rule_it_breaks():
    row = {
        "user": "Eve",
        "client": "",
        "project": "",
        "duration": "30:00",
        "billable_rate": np.nan,
        "approved": False,
        "date": "2026-10-01",
        "description": "y" * 4001,
    }
    report = validate(
        make_entries([row]),
        MAPPING,
        rules=Rules(
            require_approved=True,
            period=("2026-11-01", "2026-11-30"),
            close_date="2026-10-31",
            target="iif",
        ),
    )
    assert report.failures[S.RULE].tolist() == [
        "no_project",
        "too_long",
        "no_employee_match",
        "no_service_item",
        "not_approved",
        "outside_period",
        "description_too_long",
        "closed_books",
    ]
    assert report.rejected[S.FAILED_RULES].tolist() == [", ".join(report.failures[S.RULE])]


def test_input_is_not_modified_and_index_is_ignored():
    e = make_entries([OK, {**OK, "user": "Eve"}]).set_index(pd.Index([10, 20]))
    before = e.copy(deep=True)
    validate(e, MAPPING, rules=Rules(split_long=True))
    pd.testing.assert_frame_equal(e, before)


def test_bad_inputs_are_input_errors():
    e = make_entries([OK, OK])
    with pytest.raises(InputError, match="unique, non-empty entry ids") as info:
        validate(e.assign(entry_id="same"), MAPPING)
    assert info.value.rows == [2, 3]
    with pytest.raises(InputError, match="lack required columns"):
        validate(e.drop(columns=[S.DURATION]), MAPPING)
    with pytest.raises(InputError, match="missing column"):
        validate(e, MAPPING.drop(columns=[S.QB_ID]))
    conflicting = pd.concat([MAPPING, make_mapping(employee={"ada": "99"})], ignore_index=True)
    with pytest.raises(InputError, match="mapped to different QuickBooks records"):
        validate(e, conflicting)
    with pytest.raises(InputError, match="unknown kind"):
        validate(e, MAPPING.assign(kind="person"))


# ------------------------------------------------------------------- rounding
ROUNDING = [
    # mode, minutes, duration, expected
    ("up", 15, "0:00:00", "0:00:00"),
    ("up", 15, "0:00:01", "0:15:00"),
    ("up", 15, "0:14:59", "0:15:00"),
    ("up", 15, "0:15:00", "0:15:00"),
    ("up", 15, "0:15:01", "0:30:00"),
    ("down", 15, "0:14:59", "0:00:00"),
    ("down", 15, "0:15:00", "0:15:00"),
    ("down", 15, "0:29:59", "0:15:00"),
    ("nearest", 15, "0:07:29", "0:00:00"),
    ("nearest", 15, "0:07:30", "0:15:00"),
    ("nearest", 15, "0:22:29", "0:15:00"),
    ("nearest", 15, "0:22:30", "0:30:00"),
    ("up", 1, "1:37:01", "1:38:00"),
    ("down", 1, "1:37:59", "1:37:00"),
    ("nearest", 1, "1:37:29", "1:37:00"),
    ("nearest", 1, "1:37:30", "1:38:00"),
    ("up", 6, "0:06:00", "0:06:00"),
    ("up", 6, "0:06:01", "0:12:00"),
    ("nearest", 6, "0:02:59", "0:00:00"),
    ("nearest", 6, "0:03:00", "0:06:00"),
    ("up", 60, "1:00:01", "2:00:00"),
    ("down", 60, "1:59:59", "1:00:00"),
    ("nearest", 60, "1:29:59", "1:00:00"),
    ("nearest", 60, "1:30:00", "2:00:00"),
    (
        "up",
        10,
        "1:38:00",
        "1:40:00",
    ),  # Clockify's own example: 1 h 38 min up to 10 min is 1 h 40 min
]


@pytest.mark.parametrize("mode, minutes, duration, expected", ROUNDING)
def test_rounding_edges(mode, minutes, duration, expected):
    got = Rounding(mode, minutes).apply(pd.Series([pd.Timedelta(duration)]))
    assert got.iat[0] == pd.Timedelta(expected)


def test_no_rounding_means_the_nearest_whole_minute_and_keeps_missing():
    s = pd.Series(pd.to_timedelta(["0:07:29", "0:07:30", None]))
    out = round_durations(s, None)
    assert out.iloc[:2].tolist() == [pd.Timedelta("0:07:00"), pd.Timedelta("0:08:00")]
    assert pd.isna(out.iat[2])


@pytest.mark.parametrize(
    "args, match",
    [
        (("ceil", 15), "rounding mode 'ceil' is not allowed"),
        (("up", 0), "use a whole number of minutes from 1 to 60"),
        (("up", 61), "from 1 to 60"),
        (("up", 1.5), "from 1 to 60"),
        (("up", True), "from 1 to 60"),
    ],
)
def test_rounding_rejects_bad_settings(args, match):
    with pytest.raises(SettingsError, match=match):
        Rounding(*args)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("up:15", Rounding("up", 15)),
        ("nearest 6", Rounding("nearest", 6)),
        ("DOWN:30", Rounding("down", 30)),
        ({"mode": "up", "minutes": 5}, Rounding("up", 5)),
        ("none", None),
        ("", None),
    ],
)
def test_rounding_parse(text, expected):
    assert Rounding.parse(text) == expected


def test_report_shows_the_rounding_effect_per_user_and_customer():
    rows = [
        {**OK, "duration": "0:50"},
        {**OK, "duration": "1:05"},
        {"user": "Bob", "project": "Web", "duration": "0:31"},
    ]
    report = validate(make_entries(rows), MAPPING, rules=Rules(rounding="up:15"))
    effect = report.rounding.set_index(["user", "customer"])
    assert effect.loc[("Ada", "Acme:Site"), "entries"] == 2
    assert effect.loc[("Ada", "Acme:Site"), "change_hours"] == pytest.approx((10 + 10) / 60)
    assert effect.loc[("Bob", "Web Co"), "change_hours"] == pytest.approx(14 / 60)
    assert report.totals["rounding_hours"] == pytest.approx(34 / 60)
    assert report.rounding_effect("user")["change_hours"].sum() == pytest.approx(34 / 60)


# ------------------------------------------------------------------- settings
def test_rules_are_frozen_and_named():
    rules = Rules(period=("2026-11-01", "2026-11-15"), close_date="2026-10-31")
    with pytest.raises(AttributeError):
        rules.max_duration = "8:00"
    names = [r.name for r in rules.rules()]
    assert "outside_period(2026-11-01..2026-11-15)" in names
    assert "closed_books(2026-10-31)" in names
    assert "description_too_long(3981)" in names
    assert hash(rules) == hash(
        Rules(period=(date(2026, 11, 1), date(2026, 11, 15)), close_date="2026-10-31")
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_duration": "25"}, "max_duration '25' is not a duration"),
        ({"max_duration": "0:00"}, "must be longer than zero"),
        ({"max_duration": "24:01"}, "must be at most 24:00"),
        ({"max_duration": "30:15"}, "must be at most 24:00, not 30:15"),
        ({"require_billable": "yes"}, "require_billable must be true or false"),
        ({"target": "xero"}, "target 'xero' is not allowed; use one of qbo, qbd, iif"),
        ({"period": ("2026-11-15", "2026-11-01")}, "period ends"),
        ({"period": "2026-11"}, "period must be a pair"),
        ({"close_date": "31/10/2026"}, "close_date '31/10/2026' is not a date"),
        ({"severity": {"too_lng": "off"}}, "unknown rule 'too_lng'"),
        ({"severity": {"overlap": "fatal"}}, "allowed: error, warning, off"),
        ({"severity": {"closed_books": "error"}}, "no close_date is set"),
        ({"max_description": 0}, "max_description must be a positive whole number"),
        ({"rounding": "sideways:5"}, "rounding 'sideways:5' is not understood"),
    ],
)
def test_rules_reject_bad_settings(kwargs, match):
    with pytest.raises(SettingsError, match=match):
        Rules(**kwargs)


def test_severity_switches_rules_off_and_changes_their_level():
    rules = Rules(severity={"overlap": "off", "not_billable": "warning"})
    by_id = {r.id: r.severity for r in rules.rules()}
    assert "overlap" not in by_id and by_id["not_billable"] == "warning"
    report = validate(make_entries([{**OK, "billable": False}]), MAPPING, rules=rules)
    assert report.ok and report.warnings[S.RULE].tolist() == ["not_billable"]


def test_rules_toml_round_trip(tmp_path):
    rules = Rules(
        rounding="nearest:6",
        max_duration="12:00",
        require_approved=True,
        target="qbd",
        period=("2026-11-01", "2026-11-15"),
        close_date="2026-10-31",
        default_item="Consulting",
        split_long=True,
        severity={"overlap": "error"},
    )
    path = tmp_path / "rules.toml"
    path.write_text(rules.to_toml())
    assert Rules.from_toml(path) == rules
    assert Rules().to_toml() == "[rules]\n"


def test_rules_toml_top_level_and_toml_dates(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        'rounding = {mode = "up", minutes = 15}\nperiod = [2026-11-01, 2026-11-15]\n'
        '[severity]\noverlap = "off"\n'
    )
    rules = Rules.from_toml(path)
    assert rules.rounding == Rounding("up", 15)
    assert rules.period == (date(2026, 11, 1), date(2026, 11, 15))
    assert "overlap" not in [r.id for r in rules.rules()]


@pytest.mark.parametrize(
    "text, match",
    [
        (
            "[rules]\nmax_durration = '8:00'\n",
            r"unknown rules setting 'max_durration'; allowed:\n  rounding",
        ),
        ("[rules]\nmax_duration = 8\n", "max_duration 8 is not a duration"),
        ("[rules]\nseverity = 'off'\n", "severity must be a table"),
        ("[rules\n", "not a valid TOML file"),
    ],
)
def test_rules_toml_errors_name_the_file_and_setting(tmp_path, text, match):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=match) as info:
        Rules.from_toml(path)
    assert str(info.value).startswith(str(path))


def test_rules_toml_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="no such rules file"):
        Rules.from_toml(tmp_path / "nope.toml")


def test_every_rule_is_described():
    table = Rules(
        require_approved=True,
        period=("2026-11-01", "2026-11-02"),
        close_date="2026-10-01",
        target="qbd",
        require_rate=True,
        split_long=True,
    ).describe()
    assert table["rule"].tolist() == list(RULE_IDS)
    assert table["checks"].str.len().min() > 10


# ------------------------------------------------------------------- splitting
def test_split_long_entries_become_per_day_pieces():
    rows = [
        {**OK, "start": "2026-11-02 08:00", "duration": "30:00"},
        {**OK, "start": "2026-11-05 22:00", "duration": "4:00"},
        {**OK, "duration": "30:00"},  # no clock times: equal pieces on the same day
        {**OK, "start": "2026-11-07 09:00", "duration": "1:00"},
    ]
    report = validate(make_entries(rows), MAPPING, rules=Rules(split_long=True))
    c = report.clean
    assert c[S.ENTRY_ID].tolist() == ["e1~1", "e1~2", "e2~1", "e2~2", "e3~1", "e3~2", "e4"]
    assert c[S.SPLIT_FROM].tolist() == ["e1", "e1", "e2", "e2", "e3", "e3", ""]
    assert c[S.DATE].dt.day.tolist() == [2, 3, 5, 6, 2, 2, 7]
    assert c[S.DURATION].astype(str).tolist() == [
        "0 days 16:00:00",
        "0 days 14:00:00",
        "0 days 02:00:00",
        "0 days 02:00:00",
        "0 days 15:00:00",
        "0 days 15:00:00",
        "0 days 01:00:00",
    ]
    assert c[S.START].iloc[1] == pd.Timestamp("2026-11-03 00:00") and pd.isna(c[S.START].iloc[4])
    assert report.totals["entries"] == 4 and report.totals["checked"] == 7
    assert set(report.failures[S.RULE]) == {"split_entry"}
    assert report.for_entry("e1~2")[S.MESSAGE].tolist() == [
        "piece of entry e1 (30:00 tracked), split into 2 pieces"
    ]


def test_a_full_day_piece_is_split_again_to_fit_the_limit():
    e = make_entries([{**OK, "start": "2026-11-01 12:00", "duration": "60:00"}])
    out = split_entries(e, max_duration="23:55")
    assert out[S.DURATION].max() <= pd.Timedelta("23:55:00")
    assert out[S.DURATION].sum() == pd.Timedelta(hours=60)
    assert (out[S.START].dt.normalize() == out[S.DATE]).all()
    assert (out[S.END] - out[S.START] == out[S.DURATION]).all()


def test_split_ids_are_stable():
    e = make_entries([{**OK, "start": "2026-11-02 20:00", "duration": "40:00"}])
    a, b = split_entries(e), split_entries(e.copy())
    pd.testing.assert_frame_equal(a, b)
    assert a[S.ENTRY_ID].is_unique


# ------------------------------------------------------------------- properties
names = st.sampled_from(["Ada", "Bob", "Eve", "Zed", "", " ada"])
projects = st.sampled_from([("Acme", "Site"), ("", "Web"), ("", ""), ("Acme", ""), ("X", "Y")])
durations = st.integers(min_value=-60, max_value=40 * 3600)


@st.composite
def entry_rows(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for _ in range(n):
        client, project = draw(projects)
        secs = draw(durations)
        row = {
            "user": draw(names),
            "client": client,
            "project": project,
            "duration": pd.Timedelta(seconds=secs),
            "billable": draw(st.booleans()),
            "billable_rate": draw(st.sampled_from([np.nan, 0.0, 85.5])),
            "approved": draw(st.sampled_from([True, False, None])),
            "date": f"2026-11-{draw(st.integers(1, 28)):02d}",
        }
        if draw(st.booleans()):
            row["start"] = (
                f"{row['date']} {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
            )
        rows.append(row)
    return rows


rule_settings = st.fixed_dictionaries(
    {
        "rounding": st.sampled_from([None, "up:15", "down:6", "nearest:30", "up:1"]),
        "require_billable": st.booleans(),
        "require_project": st.booleans(),
        "require_approved": st.booleans(),
        "target": st.sampled_from(["qbo", "qbd", "iif"]),
        "split_long": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=entry_rows(), kw=rule_settings)
def test_clean_plus_rejected_is_the_input(rows, kw):
    entries = make_entries(rows)
    report = validate(entries, MAPPING, rules=Rules(**kw))
    clean, rejected = report.clean, report.rejected
    both = pd.concat([clean, rejected.drop(columns=[S.FAILED_RULES])], ignore_index=True)
    assert both[S.ENTRY_ID].is_unique
    if not kw["split_long"]:
        assert sorted(both[S.ENTRY_ID]) == sorted(entries[S.ENTRY_ID])
        got = both.set_index(S.ENTRY_ID).loc[entries[S.ENTRY_ID], S.ENTRY_COLUMNS[1:]].reset_index()
        pd.testing.assert_frame_equal(got, entries[S.ENTRY_COLUMNS], check_dtype=True)
    else:
        original = both[S.SPLIT_FROM].where(both[S.SPLIT_FROM] != "", both[S.ENTRY_ID])
        assert sorted(set(original)) == sorted(entries[S.ENTRY_ID])
        total = both.groupby(original)[S.DURATION].sum()
        assert (total.loc[entries[S.ENTRY_ID]].to_numpy() == entries[S.DURATION].to_numpy()).all()
    errors = report.errors
    assert set(errors[S.ENTRY_ID]) == set(rejected[S.ENTRY_ID])
    assert not set(errors[S.ENTRY_ID]) & set(clean[S.ENTRY_ID])
    assert set(report.failures[S.ENTRY_ID]) <= set(both[S.ENTRY_ID])


timedeltas = st.integers(min_value=0, max_value=200 * 3600 * 10**9).map(pd.Timedelta)
modes_minutes = st.tuples(st.sampled_from(["up", "down", "nearest"]), st.integers(1, 60))


@given(values=st.lists(timedeltas, min_size=1, max_size=50), mm=modes_minutes)
def test_rounding_properties(values, mm):
    mode, minutes = mm
    raw = pd.Series(values)
    out = Rounding(mode, minutes).apply(raw)
    interval = pd.Timedelta(minutes=minutes)
    assert (out.dt.total_seconds() % (minutes * 60) == 0).all()
    diff = out - raw
    if mode == "up":
        assert (diff >= pd.Timedelta(0)).all() and (diff < interval).all()
    elif mode == "down":
        assert (diff <= pd.Timedelta(0)).all() and (-diff < interval).all()
    else:
        assert (diff.abs() <= interval / 2).all()


@settings(max_examples=80, deadline=None)
@given(
    starts=st.lists(st.integers(0, 3 * 86400), min_size=1, max_size=10),
    lengths=st.lists(st.integers(0, 100 * 3600), min_size=10, max_size=10),
    clock=st.lists(st.booleans(), min_size=10, max_size=10),
    limit_minutes=st.integers(30, 24 * 60),
)
def test_split_pieces_add_up_and_fit(starts, lengths, clock, limit_minutes):
    rows = []
    for i, s in enumerate(starts):
        start = pd.Timestamp("2026-11-01") + pd.Timedelta(seconds=s)
        row = {**OK, "duration": pd.Timedelta(seconds=lengths[i]), "date": start.normalize()}
        if clock[i]:
            row["start"] = start
        rows.append(row)
    entries = make_entries(rows)
    limit = pd.Timedelta(minutes=limit_minutes)
    out = split_entries(entries, max_duration=limit)
    original = out[S.SPLIT_FROM].where(out[S.SPLIT_FROM] != "", out[S.ENTRY_ID])
    total = out.groupby(original, sort=False)[S.DURATION].sum()
    assert (total.loc[entries[S.ENTRY_ID]].to_numpy() == entries[S.DURATION].to_numpy()).all()
    assert (out[S.DURATION] <= limit).all()
    timed = out[out[S.START].notna()]
    assert (timed[S.END] - timed[S.START] == timed[S.DURATION]).all()
    pieces = timed[timed[S.SPLIT_FROM] != ""]
    assert (pieces[S.START].dt.normalize() == pieces[S.DATE]).all()
    assert ((pieces[S.END] - pd.Timedelta(1)).dt.normalize() <= pieces[S.DATE]).all()
    assert out[S.ENTRY_ID].is_unique


def test_a_customer_declined_in_the_mapping_is_fine_on_non_billable_time():
    mapping = pd.concat([MAPPING, make_mapping(customer={"Internal": ""})], ignore_index=True)
    rows = [
        {"user": "Ada", "project": "Internal", "billable": False},
        {"user": "Ada", "project": "Internal"},
    ]
    report = validate(make_entries(rows), mapping, rules=Rules(require_billable=False))
    assert report.failures[[S.ENTRY_ID, S.RULE]].values.tolist() == [["e2", "no_customer_match"]]
    assert report.clean[[S.ENTRY_ID, S.CUSTOMER_ID]].values.tolist() == [["e1", ""]]


def test_an_overlap_across_midnight_shows_the_end_date():
    rows = [_at("20:00", "8:00"), {**OK, "start": "2026-11-03 03:00", "duration": "1:00"}]
    assert failures_of("overlap", rows)[1] == (
        "e2",
        "overlaps entry e1 (2026-11-02 20:00–2026-11-03 04:00) by 1:00",
    )


def test_rules_repr_shows_what_differs_from_the_defaults():
    assert repr(Rules()) == "Rules()"
    assert repr(Rules(rounding="up:15", severity={"overlap": "off"})) == (
        "Rules(rounding=Rounding(mode='up', minutes=15), severity={'overlap': 'off'})"
    )


def test_mapping_qb_type_is_case_insensitive():
    mapping = make_mapping(employee={"Bob": ("56", "Bob Vendor", "vendor")}, customer={"Web": "8"})
    report = validate(make_entries([{"user": "Bob", "project": "Web"}]), mapping)
    assert report.clean[S.NAME_OF].tolist() == ["Vendor"]


def test_validating_a_reports_clean_entries_again_gives_the_same_clean_entries():
    rows = [OK, {**OK, "user": "Eve"}, {**OK, "start": "2026-11-02 22:00", "duration": "3:00"}]
    first = validate(make_entries(rows), MAPPING, rules=Rules(split_long=True))
    second = validate(first.clean, MAPPING, rules=Rules(split_long=True))
    assert second.ok
    pd.testing.assert_frame_equal(second.clean, first.clean)


def test_validating_against_a_ledger_that_does_not_exist_creates_nothing(tmp_path, caplog):
    path = tmp_path / "no" / "such" / "ledger.sqlite"
    entries = make_entries([{"user": "Ada", "project": "Web", "duration": "1:00"}])
    with caplog.at_level("WARNING", logger="qbrecon"):
        report = validate(entries, make_mapping(employee={"Ada": "55"}, customer={"Web": "7"}),
                          ledger=path)
    assert len(report.clean) == 1
    assert not path.exists() and not path.parent.exists()
    assert "does not exist yet" in caplog.text
