"""The local QuickBooks Online emulator, spoken to over raw HTTP."""

import base64
import json

import pytest
import requests

from qbrecon.errors import SettingsError
from qbrecon.qbo.emulator import QBOEmulator, parse_query
from qbrecon.qbo.limits import QBOLimits

VENDORS = {
    "Vendor": [
        {"Id": str(i), "DisplayName": f"Vendor {i:02d}", "Active": i != 13} for i in range(1, 27)
    ]
}


@pytest.fixture
def emu():
    with QBOEmulator(seed={**VENDORS, **_builtin_lists()}, limits=None) as e:
        yield e


def _builtin_lists():
    from qbrecon.qbo.emulator import load_seed

    seed = load_seed("builtin")
    return {k: v for k, v in seed.items() if k != "Vendor"}


class Api:
    def __init__(self, emu):
        self.emu = emu
        self.token = emu.issue_tokens()["access_token"]
        self.http = requests.Session()

    def url(self, path):
        return f"{self.emu.base_url}/company/{self.emu.realm_id}/{path}"

    def post(self, path, body, *, params=None, token=None, content_type="application/json"):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.http.post(
            self.url(path),
            data=data.encode(),
            params=params,
            timeout=5,
            headers={
                "Authorization": f"Bearer {token or self.token}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
        )

    def query(self, sql):
        return self.post("query", sql, content_type="application/text")


@pytest.fixture
def api(emu):
    return Api(emu)


# ------------------------------------------------------------------ query
def test_paging_by_five_over_26_rows(api):
    starts, sizes = [], []
    start = 1
    while True:
        r = api.query(
            f"SELECT * FROM Vendor WHERE Active IN (true, false) STARTPOSITION {start} MAXRESULTS 5"
        )
        qr = r.json()["QueryResponse"]
        if not qr:
            break
        starts.append(qr["startPosition"])
        sizes.append(qr["maxResults"])  # rows in this page, not the size asked for
        start += 5
    assert starts == [1, 6, 11, 16, 21, 26] and sizes == [5, 5, 5, 5, 5, 1]


@pytest.mark.parametrize(
    ("sql", "count"),
    [
        ("SELECT * FROM Vendor", 25),  # active only by default
        ("SELECT * FROM Vendor WHERE Active IN (true, false)", 26),
        ("SELECT * FROM Vendor WHERE Active = false", 1),
        ("select * from vendor where DisplayName LIKE 'Vendor 1%'", 9),
        ("SELECT * FROM Vendor WHERE DisplayName = 'Vendor 02' AND Active IN (true,false)", 1),
        ("SELECT * FROM Vendor WHERE Id IN ('1', '2', '3')", 3),
        ("SELECT * FROM Customer WHERE ParentRef = '8'", 2),
        ("SELECT *, Sku FROM Item ORDERBY Id", 5),
        ("SELECT * FROM Item ORDER BY Name DESC MAXRESULTS 2", 2),
    ],
)
def test_query_forms(api, sql, count):
    r = api.query(sql)
    assert r.status_code == 200
    rows = next(iter(v for v in r.json()["QueryResponse"].values() if isinstance(v, list)), [])
    assert len(rows) == count


def test_count_and_empty_results(api):
    assert api.query("SELECT COUNT(*) FROM Vendor WHERE Active IN (true, false)").json()[
        "QueryResponse"
    ] == {"totalCount": 26}
    assert api.query("SELECT * FROM TimeActivity").json()["QueryResponse"] == {}


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT * FROM Vendor MAXRESULTS 1001", "4001"),
        ("SELECT * FROM Vendor STARTPOSITION 0", "4001"),
        ("SELECT * FROM Nothing", "4001"),
        ("SELECT * FROM Vendor WHERE", "4000"),
        ("SELECT * FROM Vendor WHERE Active = true OR Active = false", "4000"),
        ("DELETE FROM Vendor", "4000"),
    ],
)
def test_bad_queries_give_the_documented_faults(api, sql, code):
    r = api.query(sql)
    assert r.status_code == 400
    fault = r.json()["Fault"]
    assert fault["Error"][0]["code"] == code and fault["type"] == "ValidationFault"


def test_query_parser_handles_escapes():
    q = parse_query(
        "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird' STARTPOSITION 3 MAXRESULTS 7"
    )
    assert q.conditions == [("DisplayName", "=", "Amy's Bird")] and (q.start, q.max_results) == (
        3,
        7,
    )


# ------------------------------------------------------------------ entities
def test_create_read_update_delete_time_activity(api, emu):
    body = {
        "NameOf": "Employee",
        "EmployeeRef": {"value": "55"},
        "CustomerRef": {"value": "9"},
        "TxnDate": "2026-11-20",
        "Hours": 1,
        "Minutes": 30,
        "BillableStatus": "Billable",
        "HourlyRate": 112.5,
        "Description": "x",
    }
    created = api.post("timeactivity", body).json()["TimeActivity"]
    assert created["EmployeeRef"] == {"value": "55", "name": "Emily Platt"}
    assert created["CustomerRef"]["name"] == "Freeman Sporting Goods:0969 Ocean View Road"
    assert created["ItemRef"] == {"value": "2", "name": "Hours"}  # the default service item
    assert (created["SyncToken"], created["Taxable"]) == ("0", False)
    tid = created["Id"]
    read = api.http.get(
        api.url(f"timeactivity/{tid}"), timeout=5, headers={"Authorization": f"Bearer {api.token}"}
    ).json()["TimeActivity"]
    assert read["Id"] == tid
    upd = api.post("timeactivity", {"Id": tid, "SyncToken": "0", "sparse": True, "Hours": 2}).json()
    assert upd["TimeActivity"]["Hours"] == 2 and upd["TimeActivity"]["SyncToken"] == "1"
    stale = api.post("timeactivity", {"Id": tid, "SyncToken": "0"}, params={"operation": "delete"})
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
    gone = api.post(
        "timeactivity", {"Id": tid, "SyncToken": "1"}, params={"operation": "delete"}
    ).json()
    assert gone["TimeActivity"] == {"status": "Deleted", "domain": "QBO", "Id": tid}
    again = api.post("timeactivity", {"Id": tid, "SyncToken": "1"}, params={"operation": "delete"})
    assert again.json()["Fault"]["Error"][0]["code"] == "610"
    assert emu.time_activities().empty


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"EmployeeRef": {"value": "58"}}, "610"),  # inactive
        ({"EmployeeRef": {"value": "999"}}, "2500"),
        ({"NameOf": None}, "2020"),
        ({"NameOf": "Other"}, "2170"),
        ({"BillableStatus": "HasBeenBilled"}, "2170"),
        ({"BillableStatus": "Billable", "HourlyRate": None}, "2020"),
        ({"CustomerRef": None, "BillableStatus": "Billable"}, "2020"),
        ({"Hours": 1.5}, "2010"),
        ({"Minutes": 60}, "2050"),
        ({"Description": "x" * 4001}, "2050"),
    ],
)
def test_time_activity_rules(api, change, code):
    body = {
        "NameOf": "Employee",
        "EmployeeRef": {"value": "55"},
        "CustomerRef": {"value": "1"},
        "TxnDate": "2026-11-20",
        "Hours": 1,
        "Minutes": 0,
        "BillableStatus": "NotBillable",
        "HourlyRate": 10,
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("timeactivity", body)
    assert r.status_code == 400 and r.json()["Fault"]["Error"][0]["code"] == code


def test_names_are_unique_and_sub_customers_get_paths(api, emu):
    dup = api.post("customer", {"DisplayName": "emily platt"})
    assert dup.json()["Fault"]["Error"][0]["code"] == "6240"  # an employee has that name
    job = api.post("customer", {"DisplayName": "Phase 3", "ParentRef": {"value": "11"}}).json()[
        "Customer"
    ]
    assert (
        job["FullyQualifiedName"] == "Freeman Sporting Goods:0969 Ocean View Road:Phase 2:Phase 3"
    )
    assert (job["Level"], job["Job"]) == (3, True)
    colon = api.post("employee", {"DisplayName": "A:B"})
    assert colon.json()["Fault"]["Error"][0]["code"] == "2010"
    emu.deactivate("Employee", "55")
    rec = next(r for r in emu.records("Employee") if r["Id"] == "55")
    assert rec["DisplayName"] == "Emily Platt (deleted)" and rec["Active"] is False
    refused = api.post("employee", {"Id": "54", "SyncToken": "0"}, params={"operation": "delete"})
    assert refused.json()["Fault"]["Error"][0]["Detail"] == "Operation Delete is not supported."


# ------------------------------------------------------------------ batch and replay
def test_batch_answers_by_bid_and_replays_a_request_id(api, emu):
    items = [
        {
            "bId": f"b{i}",
            "operation": "create",
            "TimeActivity": {
                "NameOf": "Employee",
                "EmployeeRef": {"value": emp},
                "TxnDate": "2026-11-20",
                "Hours": 1,
                "Minutes": i,
            },
        }
        for i, emp in enumerate(["55", "58", "54", "56"])
    ]
    items.append({"bId": "b9", "Query": "SELECT * FROM Item WHERE Name = 'Hours'"})
    r = api.post("batch", {"BatchItemRequest": items}, params={"requestid": "qbrb-1"})
    answers = {a["bId"]: a for a in r.json()["BatchItemResponse"]}
    assert set(answers) == {"b0", "b1", "b2", "b3", "b9"}
    assert answers["b1"]["Fault"]["Error"][0]["code"] == "610"
    assert answers["b9"]["QueryResponse"]["Item"][0]["Id"] == "2"
    assert len(emu.time_activities()) == 3
    again = api.post("batch", {"BatchItemRequest": items}, params={"requestid": "qbrb-1"})
    assert again.json() == r.json()  # the stored answer, nothing run twice
    assert len(emu.time_activities()) == 3 and emu.stats["replayed"] == 1


def test_batch_limits(api):
    item = {
        "operation": "create",
        "TimeActivity": {
            "NameOf": "Employee",
            "EmployeeRef": {"value": "55"},
            "TxnDate": "2026-11-20",
            "Hours": 1,
        },
    }
    too_many = api.post(
        "batch", {"BatchItemRequest": [{"bId": f"b{i}", **item} for i in range(31)]}
    )
    assert too_many.status_code == 400
    long_bid = api.post(
        "batch", {"BatchItemRequest": [{"bId": "b" * 11, **item}]}, params={"requestid": "r1"}
    )
    assert long_bid.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "6000"
    long_rid = api.post(
        "batch", {"BatchItemRequest": [{"bId": "b0", **item}]}, params={"requestid": "r" * 37}
    )
    assert long_rid.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "6000"


# ------------------------------------------------------------------ auth, throttling, faults
def test_gateway_401_shape(api, emu):
    r = api.query("SELECT * FROM Item")
    assert r.status_code == 200
    emu.expire_tokens()
    r = api.query("SELECT * FROM Item")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    body = r.json()
    assert body["fault"]["error"][0]["code"] == "3200" and isinstance(body["time"], int)
    assert "Fault" not in body


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_throttling_at_the_configured_limit(fmt):
    limits = QBOLimits(requests_per_window=100, batches_per_window=2, window=30)
    with QBOEmulator(seed="builtin", limits=limits, throttle_format=fmt) as emu:
        api = Api(emu)
        item = {"bId": "b0", "Query": "SELECT * FROM Item"}
        codes = [api.post("batch", {"BatchItemRequest": [item]}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = api.post("batch", {"BatchItemRequest": [item]})
        if fmt == "xml":
            assert r.headers["Content-Type"].startswith("application/xml")
            assert "ThrottleExceeded" in r.text and 'code="3001"' in r.text
        else:
            assert r.json()["Fault"]["Error"][0]["code"] == "3001"
        assert api.query("SELECT * FROM Item").status_code == 200  # plain requests still fit


def test_fault_injection(api, emu):
    emu.inject("error", status=502, times=1, match="query")
    assert api.query("SELECT * FROM Item").status_code == 502
    emu.inject("drop", after=1)
    assert api.query("SELECT * FROM Item").status_code == 200
    before = len(emu.time_activities())
    with pytest.raises(requests.ConnectionError):
        api.post(
            "timeactivity",
            {
                "NameOf": "Employee",
                "EmployeeRef": {"value": "55"},
                "TxnDate": "2026-11-20",
                "Hours": 1,
            },
        )
    assert len(emu.time_activities()) == before + 1  # committed, then the answer was lost
    with pytest.raises(SettingsError):
        emu.inject("explode")


# ------------------------------------------------------------------ OAuth endpoints
def test_token_endpoint(emu):
    token_url = requests.get(emu.discovery_url, timeout=5).json()["token_endpoint"]
    good = "Basic " + base64.b64encode(f"{emu.client_id}:{emu.client_secret}".encode()).decode()
    bad = "Basic " + base64.b64encode(b"x:y").decode()
    rt = emu.issue_tokens()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": rt}
    assert (
        requests.post(token_url, data=form, headers={"Authorization": bad}, timeout=5).status_code
        == 401
    )
    r = requests.post(token_url, data=form, headers={"Authorization": good}, timeout=5)
    body = r.json()
    assert r.status_code == 200 and "id_token" not in body and body["refresh_token"] != rt
    again = requests.post(token_url, data=form, headers={"Authorization": good}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with QBOEmulator(seed="builtin", limits=None, state_file=state) as emu:
        api = Api(emu)
        api.post(
            "timeactivity",
            {
                "NameOf": "Employee",
                "EmployeeRef": {"value": "55"},
                "TxnDate": "2026-11-20",
                "Hours": 1,
            },
            params={"requestid": "rid-1"},
        )
        token = api.token
    assert (state.stat().st_mode & 0o777) == 0o600
    with QBOEmulator(limits=None, state_file=state) as emu2:
        assert len(emu2.time_activities()) == 1
        api2 = Api(emu2)
        r = api2.post(
            "timeactivity",
            {"NameOf": "Employee", "EmployeeRef": {"value": "55"}, "Hours": 1},
            params={"requestid": "rid-1"},
            token=token,
        )  # the old token still works
        assert r.status_code == 200 and len(emu2.time_activities()) == 1  # replayed from the file
