"""The QuickBooks client: fault parsing and classes, limits, timeouts, lists."""

import hypothesis.strategies as st
import pytest
import requests
from hypothesis import given, settings
from qbo_support import FAST_LIMITS

from qbrecon import schema as S
from qbrecon.errors import AuthError, RejectedSendError, SettingsError, TransientSendError
from qbrecon.qbo.client import (
    AUTH,
    COMPANY,
    PERMANENT,
    THROTTLED,
    UNKNOWN,
    QBOClient,
    classify_fault,
    parse_fault,
)
from qbrecon.qbo.emulator import QBOEmulator
from qbrecon.qbo.limits import QBOLimits, RateLimiter
from qbrecon.qbo.lists import fetch_qb_lists

GATEWAY_401 = (
    '{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; '
    'errorCode=003200; statusCode=401","detail":"Token expired: x","code":"3200","element":null}],'
    '"type":"AUTHENTICATION"},"time":1601391072830}'
)
XML_429 = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse '
    'xmlns="http://schema.intuit.com/finance/v3" time="t"><Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request "
    "limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>"
)


@pytest.fixture
def emu():
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as e:
        yield e


@pytest.fixture
def client(emu, tmp_path):
    with emu.connect(tmp_path / "tokens.json", timeout=5) as c:
        yield c


# ------------------------------------------------------------------ faults
@pytest.mark.parametrize(
    ("body", "code", "ftype", "n_errors"),
    [
        (
            '{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","Detail":"x","code":"6240"}],'
            '"type":"ValidationFault"},"time":"t"}',
            "6240",
            "ValidationFault",
            1,
        ),
        (GATEWAY_401, "3200", "AUTHENTICATION", 1),
        (XML_429, "3001", "SERVICE", 1),
        (
            '{"Fault":{"Error":[{"Message":"a","code":"610"},{"Message":"b","code":"2500"}],"type":"V"}}',
            "610",
            "V",
            2,
        ),
        (
            '{"Fault":{"Error":[{"Message":"no code here"}],"type":"SystemFault"}}',
            "",
            "SystemFault",
            1,
        ),
    ],
    ids=["standard", "gateway-401", "xml-throttle", "two-errors", "no-code"],
)
def test_fault_shapes_are_read(body, code, ftype, n_errors):
    fault = parse_fault(body)
    assert fault["code"] == code and fault["type"] == ftype and len(fault["errors"]) == n_errors


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<html><body>502 Bad Gateway</body></html>",
        '{"QueryResponse":{}}',
        "not json",
        '<!DOCTYPE x [<!ENTITY e "boom">]><Fault>&e;</Fault>',
    ],
)
def test_non_faults_are_not_faults(body):
    assert parse_fault(body) is None


@pytest.mark.parametrize(
    ("status", "code", "text", "expected"),
    [
        (429, "3001", "", THROTTLED),
        (403, "", "message=ThrottleExceeded; statusCode=403", THROTTLED),
        (200, "3001", "", THROTTLED),
        (401, "3200", "", AUTH),
        (200, "100", "", AUTH),
        (401, "120", "", COMPANY),
        (403, "3100", "", COMPANY),
        (400, "6190", "Invalid Company Status", COMPANY),
        (500, "10000", "", UNKNOWN),
        (503, "", "", UNKNOWN),
        (400, "610", "Object Not Found", PERMANENT),
        (400, "2500", "Invalid Reference Id", PERMANENT),
        (400, "6210", "Account Period Closed", PERMANENT),
        (400, "5010", "The account period has closed.", PERMANENT),
        (None, "6000", "Business Validation Error", PERMANENT),
        (400, "4000", "Error parsing query", PERMANENT),
    ],
)
def test_fault_classes(status, code, text, expected):
    assert classify_fault(status, code, text) == expected


def test_faults_become_qbrecon_errors_with_the_fault(client):
    with pytest.raises(RejectedSendError) as info:
        client.read("TimeActivity", "99999")
    assert info.value.fault["code"] == "610" and info.value.status == 400
    assert info.value.fault["class"] == PERMANENT
    with pytest.raises(RejectedSendError, match="4001"):
        client.request_json(
            "POST", "query", body="SELECT * FROM Nothing", content_type="application/text"
        )
    with pytest.raises(RejectedSendError, match="Unsupported Operation"):
        client.delete("Employee", "55", "0")
    assert client.last_response is not None and client.last_response.status_code == 400


def test_throttled_and_failing_requests_are_transient(emu, client):
    emu.inject("throttle")
    with pytest.raises(TransientSendError) as info:
        client.query_rows("Item")
    assert info.value.fault["class"] == THROTTLED and info.value.status == 429
    assert info.value.retry_after == FAST_LIMITS.throttle_wait
    emu.inject("error", status=500)
    with pytest.raises(TransientSendError) as info:
        client.query_rows("Item")
    assert info.value.fault["class"] == UNKNOWN and info.value.fault["code"] == "10000"
    emu.inject("error", status=503)
    with pytest.raises(TransientSendError, match="unavailable"):
        client.query_rows("Item")


def test_timeouts_and_lost_connections_are_unknown_outcomes(emu, tmp_path):
    with emu.connect(tmp_path / "t.json", timeout=0.2) as c:
        emu.inject("slow", delay=0.6)
        with pytest.raises(TransientSendError, match="no answer") as info:
            c.query_rows("Item")
        assert info.value.fault == {**info.value.fault, "class": UNKNOWN, "code": "timeout"}
        emu.inject("drop")
        with pytest.raises(TransientSendError) as info:
            c.query_rows("Item")
        assert info.value.fault["class"] == UNKNOWN
    dead = QBOClient(realm_id="1", tokens="AT", base_url="http://127.0.0.1:9/v3", timeout=1)
    with pytest.raises(TransientSendError) as info:
        dead.query_rows("Item")
    assert info.value.fault["class"] == "not_sent"


def test_a_401_after_refresh_is_an_auth_error(emu):
    c = QBOClient(realm_id=emu.realm_id, tokens="not-a-token", base_url=emu.base_url)
    with pytest.raises(AuthError, match="cannot be refreshed"):
        c.query_rows("Item")


def test_wrong_company_is_refused(emu, tmp_path):
    tokens = emu.issue_tokens()["access_token"]
    c = QBOClient(realm_id="123", tokens=tokens, base_url=emu.base_url)
    with pytest.raises(AuthError, match="refused access to company 123"):
        c.query_rows("Item")


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"realm_id": ""}, "realm_id"),
        ({"realm_id": "1/2"}, "realm_id"),
        ({"timeout": 0}, "timeout"),
        ({"base_url": "http://example.com/v3"}, "unencrypted"),
    ],
)
def test_client_settings_are_checked(kw, expected):
    args = {"realm_id": "1", "tokens": "AT", "base_url": "http://127.0.0.1:1/v3", **kw}
    with pytest.raises(SettingsError, match=expected):
        QBOClient(**args)


def test_text_is_sent_as_utf8(client, emu):
    rec = client.create(
        "TimeActivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": "55"},
            "TxnDate": "2026-11-20",
            "Hours": 1,
            "Minutes": 0,
            "Description": "Zoë — 日本語 ✓",
        },
    )
    assert rec["Description"] == "Zoë — 日本語 ✓"
    assert emu.time_activities()["description"].iloc[0] == "Zoë — 日本語 ✓"
    rows = client.query_rows("Customer", "DisplayName = 'Amy\\'s Bird Sanctuary'")
    assert [r["Id"] for r in rows] == ["1"]


def test_the_library_models_work_through_the_client(client):
    # python-quickbooks' own objects go through the same transport
    from quickbooks.objects.employee import Employee

    people = Employee.where("Active IN (true, false)", qb=client)
    assert {e.DisplayName for e in people} >= {"Emily Platt", "Tom Baker (deleted)"}


# ------------------------------------------------------------------ limits
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.now += s


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 0.3)), min_size=1, max_size=120),
    st.integers(1, 6),
    st.integers(1, 10),
)
def test_limiter_never_exceeds_either_window(calls, batches, requests_):
    limits = QBOLimits(
        requests_per_window=requests_, batches_per_window=batches, window=1.0, margin=0.0
    )
    clock = FakeClock()
    lim = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    stamps = []
    for is_batch, gap in calls:
        clock.now += gap
        lim.acquire(batch=is_batch)
        stamps.append((clock.now, is_batch))
    for t, _ in stamps:
        # a slot frees exactly one window later; allow for float rounding at that edge
        window = [(u, b) for u, b in stamps if t - 1.0 + 1e-9 < u <= t]
        assert len(window) <= requests_
        assert sum(b for _, b in window) <= batches


def test_limiter_pause_holds_everyone_back():
    clock = FakeClock()
    lim = RateLimiter(QBOLimits(), clock=clock, sleep=clock.sleep)
    lim.pause(5.0)
    assert lim.acquire() == pytest.approx(5.0)
    assert QBOLimits().scaled(60).window == 1.0
    with pytest.raises(SettingsError):
        QBOLimits(batches_per_window=0)


# ------------------------------------------------------------------ lists
def test_fetch_lists_reads_every_page_active_and_inactive(emu, client):
    requests_before = emu.stats["api_requests"]
    lists = fetch_qb_lists(client, page_size=2)
    assert emu.stats["api_requests"] - requests_before > 5  # paged
    assert len(lists.employees) == 5 and not lists.employees.set_index(S.QB_ID).loc["58", S.ACTIVE]
    assert "Tom Baker" in set(lists.employees[S.NAME])  # " (deleted)" removed
    cust = lists.customers.set_index(S.QB_ID)
    assert cust.loc["11", S.FULL_NAME] == "Freeman Sporting Goods:0969 Ocean View Road:Phase 2"
    assert (cust.loc["11", S.LEVEL], cust.loc["11", S.PARENT_ID]) == (2, "9")
    assert not cust.loc["12", S.ACTIVE]
    assert set(lists.items[S.ITEM_TYPE]) == {"Service"} and "Pump" not in set(lists.items[S.NAME])
    assert len(lists.vendors) == 2 and len(lists.classes) == 2
    same = fetch_qb_lists(client)
    for name in ("employees", "vendors", "customers", "items", "classes"):
        assert getattr(same, name).equals(getattr(lists, name))


def test_fetch_lists_with_many_records(tmp_path):
    seed = {
        "Employee": [
            {"Id": str(i), "DisplayName": f"Person {i:04d}", "Active": i % 7 != 0}
            for i in range(1, 2502)
        ]
    }
    with QBOEmulator(seed=seed, limits=None) as emu, emu.connect(tmp_path / "t.json") as c:
        lists = fetch_qb_lists(c)
        assert len(lists.employees) == 2501
        assert (~lists.employees[S.ACTIVE]).sum() == 357
        assert lists.employees[S.QB_ID].is_unique


def test_fetch_lists_from_the_bundled_samples(tmp_path):
    from qbrecon.qbo.emulator import default_seed_dir, load_seed

    folder = default_seed_dir()
    if folder is None:
        pytest.skip("data/samples/qbo is not present")
    seed = load_seed(folder)
    with QBOEmulator(seed=folder, limits=None) as emu, emu.connect(tmp_path / "t.json") as c:
        lists = fetch_qb_lists(c)
    # the sample pages overlap by one record (a realistic paging shift): count distinct ids
    for entity, name in (
        ("Employee", "employees"),
        ("Vendor", "vendors"),
        ("Customer", "customers"),
        ("Class", "classes"),
    ):
        assert len(getattr(lists, name)) == len({r["Id"] for r in seed.get(entity, [])}), entity
    services = {r["Id"] for r in seed.get("Item", []) if r.get("Type") == "Service"}
    assert set(lists.items[S.QB_ID]) == services


def test_http_errors_never_escape_as_requests_exceptions(emu, client):
    emu.inject("drop")
    try:
        client.query_rows("Item")
    except requests.RequestException:  # pragma: no cover - the failure this test guards
        pytest.fail("a raw requests exception escaped")
    except TransientSendError:
        pass
