"""The bundled sample data: one small firm's time exports and QuickBooks lists.

Harborlight Design Studio LLC, a design and consulting shop, over two semi-monthly pay
periods (2026-10-16..31 and 2026-11-01..15). Most people track time in Clockify, the
research team in Toggl Track, three contractors in Harvest; the company keeps its books
in QuickBooks Online (API query responses) and, for the Desktop flows, the same company
in QuickBooks Desktop (IIF list export, qbXML responses). The data is written by
:func:`write_samples` from the tables below and a seeded random generator: no clock is
read, so the output is the same on every run and machine. ``data/samples/README.md``
(written by the same function) lists every file and the traps it holds on purpose.

Example:
    >>> from qbrecon.samples import samples_dir
    >>> sorted(p.name for p in (samples_dir() / "qbo").iterdir())[:2]
    ['Class.json', 'Customer_page1.json']
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

__all__ = ["COMPANY", "SEED", "samples_dir", "write_samples"]

SEED = 20261116
COMPANY = "Harborlight Design Studio LLC"
#: bump when the generated samples change, so cached copies are regenerated
SAMPLES_REVISION = 1
DOMAIN = "harborlight.studio"
PERIODS = ((dt.date(2026, 10, 16), dt.date(2026, 10, 31)), (dt.date(2026, 11, 1), dt.date(2026, 11, 15)))
#: when the lists were pulled from QuickBooks (fixed, for the response metadata)
PULLED = "2026-11-16T08:30:12.345-08:00"
_XLSX_TIME = (2026, 11, 16, 8, 30, 0)


# ============================================================== the company
@dataclass(frozen=True)
class Person:
    key: str
    qbo_id: str | None  # None: no QuickBooks record (a new hire)
    display: str  # QuickBooks Online DisplayName (without " (deleted)")
    given: str
    family: str
    tracker: str | None  # clockify, toggl, harvest; None: tracks no time
    tracked_as: str  # the name the tracker writes
    group: str = ""
    rate: int = 0
    vendor: bool = False
    active: bool = True
    number: str = ""
    email: bool = True  # QuickBooks has their e-mail
    qbd_name: str | None = None  # QuickBooks Desktop name when it differs
    until: dt.date | None = None  # last day with entries
    since: dt.date | None = None  # first day with entries


PEOPLE = (
    Person("maya", "55", "Maya Okafor", "Maya", "Okafor", "clockify", "Maya Okafor", "Design", 120,
           number="E-1001"),
    Person("dreyes", "56", "Daniel Reyes", "Daniel", "Reyes", "clockify", "Reyes, Daniel",
           "Consulting", 140, number="E-1002"),
    Person("mirac", "57", "Miraç Çiçek", "Miraç", "Çiçek", "clockify", "mirac.cicek", "Design", 110,
           number="E-1003"),
    Person("zoe", "58", "Zoë Laurent", "Zoë", "Laurent", "clockify", "Zoe Laurent", "Design", 115,
           number="E-1004"),
    Person("robert", "59", "Robert Chen", "Robert", "Chen", "clockify", "R. Chen", "Development", 135,
           number="E-1005"),
    Person("grace", "60", "Grace Chen", "Grace", "Chen", "clockify", "Grace Chen", "Development", 130,
           number="E-1006"),
    Person("jonathan", "61", "Jonathan Whitfield", "Jonathan", "Whitfield", "clockify",
           "Jonathon Whitfield", "Consulting", 150, number="E-1007"),
    Person("sofia", "62", "Sofia Marquez", "Sofia", "Marquez", "clockify", "Sofia  Marquez ", "Design",
           105, number="E-1008"),
    Person("hannah", "63", "Hannah Brooks", "Hannah", "Brooks", "clockify", "Hannah Brooks", "Design",
           100, active=False, number="E-0997", until=dt.date(2026, 10, 23)),
    Person("priya", "64", "Priya Raman", "Priya", "Raman", "toggl", "priya raman", rate=125,
           number="E-1009"),
    Person("dkim", "65", "Daniel Kim", "Daniel", "Kim", "toggl", "Daniel Kim", rate=120,
           number="E-1010"),
    Person("sule", "66", "Şule Yıldız", "Şule", "Yıldız", "toggl", "Sule Yildiz", rate=115,
           number="E-1011", qbd_name="Sule Yildiz"),
    Person("tomas", "67", "Tomás O'Brien", "Tomás", "O'Brien", "toggl", "Tomas O\u2019Brien", rate=120,
           number="E-1012"),
    Person("olivia", "68", "Olivia Grant", "Olivia", "Grant", None, "", number="E-0990"),
    Person("lena", None, "Lena Fischer", "Lena", "Fischer", "clockify", "Lena Fischer", "Development",
           110, since=dt.date(2026, 11, 2)),
    # contractors: QuickBooks vendors who track in Harvest
    Person("marcus", "40", "Marcus Bell", "Marcus", "Bell", "harvest", "Marcus Bell", rate=95,
           vendor=True, email=False),
    Person("ines", "41", "Ines Carvalho", "Ines", "Carvalho", "harvest", "Inês Carvalho", rate=110,
           vendor=True, email=False),
    Person("peter", "42", "Peter Novak Consulting", "Peter", "Novak", "harvest", "Peter Novak", rate=160,
           vendor=True, email=False),
    # suppliers that are vendors too (distractors)
    Person("adobe", "43", "Adobe Inc.", "", "", None, "", vendor=True, email=False),
    Person("wework", "44", "WeWork", "", "", None, "", vendor=True, email=False),
    Person("bellprint", "45", "Bell Printing Co.", "", "", None, "", vendor=True, email=False),
)


@dataclass(frozen=True)
class Customer:
    qbo_id: str
    path: tuple[str, ...]  # QuickBooks Online names from the top, e.g. ("Acme & Sons, LLC", "Website Redesign")
    active: bool = True
    project: bool = False  # a QuickBooks Online Project (IsProject)
    qbd_path: tuple[str, ...] | None = None  # QuickBooks Desktop names when they differ

    @property
    def full(self) -> str:
        return ":".join(self.path)


_ANADOLU_QBD = "Anadolu Tekstil A.S."  # Desktop (Windows-1252) cannot store Ş
CUSTOMERS = (
    Customer("1", ("Acme & Sons, LLC",)),
    Customer("2", ("Acme & Sons, LLC", "Website Redesign")),
    Customer("3", ("Acme & Sons, LLC", "Brand Refresh")),
    Customer("4", ("Café Lumière",)),
    Customer("5", ("Café Lumière", "Menu Design")),
    Customer("6", ("Café Lumière", "Website Redesign")),
    Customer("7", ("Anadolu Tekstil A.Ş.",), qbd_path=(_ANADOLU_QBD,)),
    Customer("8", ("Anadolu Tekstil A.Ş.", "Catalog 2027"), qbd_path=(_ANADOLU_QBD, "Catalog 2027")),
    Customer("9", ("Anadolu Tekstil A.Ş.", "Catalog 2027", "Photography"),
             qbd_path=(_ANADOLU_QBD, "Catalog 2027", "Photography")),
    Customer("21", ("Anadolu Tekstil A.Ş.", "Catalog 2026"), active=False,
             qbd_path=(_ANADOLU_QBD, "Catalog 2026")),
    Customer("10", ("Muebles Feijó S.L.",)),
    Customer("11", ("Muebles Feijó S.L.", "Showroom Signage")),
    Customer("12", ("Greenleaf Partners Inc.",)),
    Customer("13", ("Greenleaf Partners Inc.", "Annual Report 2026")),
    Customer("14", ("Greenleaf Partners Inc.", "Market Research")),
    Customer("15", ("Hartwell Dental Group",)),
    Customer("16", ("Hartwell Dental Group", "Patient Portal"), project=True),
    Customer("17", ("Northbridge Ltd",)),
    Customer("18", ("Northbridge Ltd", "Q4 Campaign")),
    Customer("19", ("Old Mill Bakery",), active=False),
    Customer("20", ("Acme Tailors",)),
)
_CUSTOMER_BY_FULL = {c.full: c for c in CUSTOMERS}


@dataclass(frozen=True)
class Item:
    qbo_id: str
    path: tuple[str, ...]
    type: str  # QuickBooks Online Type
    price: float = 0.0
    active: bool = True

    @property
    def full(self) -> str:
        return ":".join(self.path)


ITEMS = (
    Item("1", ("Services",), "Service"),
    Item("2", ("Hours",), "Service"),
    Item("3", ("Design",), "Service", 120.0),
    Item("4", ("Development",), "Service", 135.0),
    Item("5", ("Project Management",), "Service", 140.0),
    Item("6", ("Consulting",), "Service", 160.0),
    Item("7", ("Research",), "Service", 120.0),
    Item("8", ("Creative Services",), "Category"),
    Item("9", ("Creative Services", "Photography"), "Service", 110.0),
    Item("10", ("Creative Services", "Copywriting"), "Service", 95.0),
    Item("11", ("Printing",), "NonInventory", 0.0),
    Item("12", ("Retainer",), "Service", 0.0, active=False),
)
CLASSES = (("5100000000000041001", "Design Studio"), ("5100000000000041002", "Consulting"),
           ("5100000000000041003", "Research"))

# ------------------------------------------------- what each person works on
# (client as the tracker spells it, project as the tracker spells it, task, true QBO full name)
_W = {
    "acme_web": ("Acme and Sons", "Website Redesign", "Acme & Sons, LLC:Website Redesign"),
    "acme_brand": ("Acme and Sons", "Brand Refresh", "Acme & Sons, LLC:Brand Refresh"),
    "cafe_menu": ("Café Lumière", "Menu Design", "Café Lumière:Menu Design"),
    "cafe_web": ("Café Lumière", "Website Redesign", "Café Lumière:Website Redesign"),
    "cat": ("Anadolu Tekstil", "Catalog 2027", "Anadolu Tekstil A.Ş.:Catalog 2027"),
    "cat_photo": ("Anadolu Tekstil", "Catalog 2027 / Photography",
                  "Anadolu Tekstil A.Ş.:Catalog 2027:Photography"),
    "feijo": ("Muebles Feijo", "Showroom Signage", "Muebles Feijó S.L.:Showroom Signage"),
    "nb_q4": ("North Bridge Ltd", "Q4 Campaign", "Northbridge Ltd:Q4 Campaign"),
    "hartwell": ("", "Hartwell Dental Group", "Hartwell Dental Group"),
    "internal": ("", "Internal", None),
    "solstice": ("Solstice Yoga", "Brand Identity", None),
    # Toggl Track spells some clients its own way
    "t_cafe_menu": ("Cafe Lumiere", "Menu Design", "Café Lumière:Menu Design"),
    "t_portal": ("Hartwell Dental", "Patient Portal", "Hartwell Dental Group:Patient Portal"),
    "t_research": ("Greenleaf Partners", "Market Research", "Greenleaf Partners Inc.:Market Research"),
    # so does Harvest
    "h_report": ("Greenleaf Partners, Inc.", "Annual Report 2026",
                 "Greenleaf Partners Inc.:Annual Report 2026"),
    "h_brand": ("Acme & Sons", "Brand Refresh", "Acme & Sons, LLC:Brand Refresh"),
    "h_photo": ("Anadolu Tekstil A.S.", "Catalog 2027 - Photography",
                "Anadolu Tekstil A.Ş.:Catalog 2027:Photography"),
    "h_q4": ("Northbridge", "Q4 Campaign", "Northbridge Ltd:Q4 Campaign"),
}
_WORK = {
    "maya": (("acme_web", "Design"), ("cafe_menu", "Design")),
    "dreyes": (("nb_q4", "Project Management"), ("acme_brand", "Project Management")),
    "mirac": (("cat", "Design"), ("cat_photo", "Photography")),
    "zoe": (("cafe_web", "Design"), ("feijo", "Design")),
    "robert": (("acme_web", "Development"), ("hartwell", "Development")),
    "grace": (("cafe_web", "Development"), ("hartwell", "Development")),
    "jonathan": (("nb_q4", "Project Management"), ("feijo", "Project Management")),
    "sofia": (("acme_brand", "Design"), ("cat", "Design")),
    "hannah": (("cafe_menu", "Design"),),
    "lena": (("solstice", "Development"), ("hartwell", "Development")),
    "priya": (("t_research", "Research"), ("t_portal", "Research")),
    "dkim": (("t_portal", "Research"), ("t_cafe_menu", "Design")),
    "sule": (("t_research", "Research"),),
    "tomas": (("t_cafe_menu", "Research"), ("t_research", "Research")),
    "marcus": (("h_report", "Copywriting"), ("h_brand", "Copywriting")),
    "ines": (("h_photo", "Photography"), ("h_brand", "Photography")),
    "peter": (("h_q4", "Consulting"), ("h_report", "Consulting")),
}
_DESCRIPTIONS = {
    "Design": ("Homepage wireframes", "Layout revisions", "Moodboard", "Style guide updates",
               "Client feedback round", "Icon set", "Typography pass"),
    "Development": ("Front-end build", "CMS templates", "Bug fixes", "Accessibility fixes",
                    "Deploy to staging", "Code review"),
    "Project Management": ("Weekly status call", "Timeline update", "Budget review",
                           "Stakeholder workshop prep"),
    "Photography": ("Product shoot", "Retouching", "Shot list", "Location scouting"),
    "Research": ("User interviews", "Survey analysis", "Competitor review", "Synthesis workshop"),
    "Copywriting": ("Draft chapter copy", "Edit pass", "Headlines and captions"),
    "Consulting": ("Strategy session", "Market sizing", "Board deck review"),
}


# ============================================================== entries
@dataclass
class Entry:
    person: Person
    work: str  # key of _W, or "" for an entry without project
    task: str
    description: str
    start: dt.datetime
    seconds: int
    billable: bool
    approved: bool = True
    tags: str = ""
    no_seconds: bool = False  # Clockify wrote "10:23 AM" (no seconds) for this one

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.seconds)


def _workdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days, d = [], first
    while d <= last:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def _generate_entries(rng: random.Random) -> list[Entry]:
    entries: list[Entry] = []
    days = [d for first, last in PERIODS for d in _workdays(first, last)]
    for person in PEOPLE:
        if person.tracker is None:
            continue
        work = _WORK[person.key]
        presence = {"clockify": 0.9, "toggl": 0.6, "harvest": 0.45}[person.tracker]
        for day in days:
            if (person.until and day > person.until) or (person.since and day < person.since):
                continue
            if rng.random() > presence:
                continue
            start = dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(
                minutes=rng.randrange(0, 75, 5), seconds=rng.randrange(60))
            blocks = 2 if rng.random() < 0.35 and person.tracker != "harvest" else 1
            for _ in range(blocks):
                key, task = work[rng.randrange(len(work))]
                if person.tracker == "harvest":
                    seconds = rng.randrange(8, 33) * 900  # Harvest: quarter hours, 2 to 8 h
                else:
                    seconds = rng.randrange(5400, 15300) + rng.randrange(60)
                billable = True
                if person.tracker == "clockify" and rng.random() < 0.08:
                    key, task, billable = "internal", "", False
                elif person.tracker == "toggl" and rng.random() < 0.15:
                    billable = False
                desc = rng.choice(_DESCRIPTIONS[task]) if task else rng.choice(
                    ("Team meeting", "Timesheets and admin", "Portfolio update"))
                tags = ""
                if person.tracker == "clockify" and "call" in desc.lower():
                    tags = "Meetings, Client"
                elif person.tracker == "clockify" and rng.random() < 0.1:
                    tags = "Revisions"
                entries.append(Entry(person, key, task, desc, start, seconds, billable,
                                     tags=tags, no_seconds=person.tracker == "clockify"
                                     and rng.random() < 0.04))
                start = start + dt.timedelta(seconds=seconds + rng.randrange(1800, 3600))
    return entries


def _person(key: str) -> Person:
    return next(p for p in PEOPLE if p.key == key)


def _traps() -> list[Entry]:
    """The hand-placed entries every sample reader and rule must meet."""
    return [
        # forgot to stop the timer: 30 hours
        Entry(_person("robert"), "acme_web", "Development", "Front-end build (timer left running)",
              dt.datetime(2026, 10, 21, 8, 0, 0), 30 * 3600, True),
        # a late deploy that crosses midnight
        Entry(_person("grace"), "hartwell", "Development", "Production deploy",
              dt.datetime(2026, 11, 10, 22, 30, 0), 2 * 3600 + 45 * 60, True),
        # started and stopped at once
        Entry(_person("zoe"), "feijo", "Design", "Started timer by mistake",
              dt.datetime(2026, 10, 27, 14, 5, 12), 0, True),
        # billable, but no project (and no client)
        Entry(_person("dreyes"), "", "", "Call with prospect",
              dt.datetime(2026, 11, 4, 16, 0, 0), 45 * 60, True, tags="Meetings"),
        # billable on a project with no rate set: Clockify writes 0.00
        Entry(_person("jonathan"), "nb_q4", "Project Management", "Kickoff notes:\nscope, timeline",
              dt.datetime(2026, 10, 19, 13, 0, 0), 90 * 60, True),
        # cells a spreadsheet would take for formulas
        Entry(_person("maya"), "cafe_menu", "Design", "=Menu v2 (client asked for \"bolder\")",
              dt.datetime(2026, 11, 6, 15, 10, 0), 40 * 60, True),
        Entry(_person("robert"), "hartwell", "Development", "=SUM() fix in the budget sheet",
              dt.datetime(2026, 10, 30, 16, 20, 0), 25 * 60, True),
        Entry(_person("sofia"), "acme_brand", "Design", "@Maya review comments, round 2",
              dt.datetime(2026, 11, 12, 11, 0, 0), 55 * 60, True),
        Entry(_person("dkim"), "t_portal", "Research", "+1 usability session",
              dt.datetime(2026, 11, 5, 10, 0, 0), 60 * 60, True),
        Entry(_person("ines"), "h_photo", "Photography", "-- reshoot of the cover",
              dt.datetime(2026, 11, 3, 9, 0, 0), 3 * 3600, True),
        # a long consulting day: the amount needs a thousands separator (1,200.0)
        Entry(_person("peter"), "h_q4", "Consulting", "Workshop day with the board",
              dt.datetime(2026, 10, 28, 9, 0, 0), 7 * 3600 + 1800, True),
    ]


def _all_entries() -> list[Entry]:
    rng = random.Random(SEED)
    entries = _generate_entries(rng) + _traps()
    # Harvest: the last week of period 2 is not approved yet
    for e in entries:
        if e.person.tracker == "harvest" and e.start.date() >= dt.date(2026, 11, 9):
            e.approved = False
    entries.sort(key=lambda e: (e.start, e.person.key))
    return entries


# ============================================================ formatting
def _money(x: Decimal) -> str:
    return str(x.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _decimal_hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _hms(seconds: int, pad: bool = True) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if pad else f"{h}:{m:02d}:{s:02d}"


def _clock12(t: dt.datetime, seconds: bool = True) -> str:
    h = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    return f"{h:02d}:{t.minute:02d}:{t.second:02d} {ampm}" if seconds else f"{h:02d}:{t.minute:02d} {ampm}"


def _email(p: Person) -> str:
    return f"{p.given.lower()}.{p.family.lower()}@{DOMAIN}".replace("ç", "c").replace("ë", "e") \
        .replace("ş", "s").replace("ı", "i").replace("á", "a").replace("'", "")


def _csv_text(rows: list[list[str]], *, quote_all: bool, newline: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator=newline)
    w.writerows(rows)
    return buf.getvalue()


#: first characters that make a spreadsheet cell a formula
FORMULA_CHARS = ("=", "+", "-", "@")

CLOCKIFY_HEADER = ["Project", "Client", "Description", "Task", "User", "Group", "Email", "Tags",
                   "Billable", "Start Date", "Start Time", "End Date", "End Time", "Duration (h)",
                   "Duration (decimal)", "Billable Rate (USD)", "Billable Amount (USD)",
                   "Date of creation"]


def _clockify_row(e: Entry, *, dayfirst: bool, hour24: bool) -> list:
    fmt = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
    client, project = (_W[e.work][0], _W[e.work][1]) if e.work else ("", "")
    rate = Decimal(0) if (e.work == "nb_q4" and e.description.startswith("Kickoff")) else Decimal(
        e.person.rate)
    amount = rate * Decimal(e.seconds) / 3600 if e.billable else Decimal(0)

    def clock(t: dt.datetime) -> str:
        return t.strftime("%H:%M:%S") if hour24 else _clock12(t, seconds=not e.no_seconds)

    created = (e.start + dt.timedelta(days=1 if e.seconds > 20 * 3600 else 0)).strftime(fmt)
    return [project, client, e.description, e.task, e.person.tracked_as, e.person.group,
            _email(e.person), e.tags, "Yes" if e.billable else "No", e.start.strftime(fmt),
            clock(e.start), e.end.strftime(fmt), clock(e.end), _hms(e.seconds),
            _decimal_hours(e.seconds), _money(rate), _money(amount), created]


def _clockify_csv(entries: list[Entry]) -> bytes:
    rows = [CLOCKIFY_HEADER] + [
        [str(v) for v in _clockify_row(e, dayfirst=False, hour24=False)] for e in entries]
    return _csv_text(rows, quote_all=True, newline="\r\n").encode("utf-8")


def _clockify_xlsx(entries: list[Entry]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Detailed Report"
    ws.append(CLOCKIFY_HEADER)
    for e in entries:
        row = _clockify_row(e, dayfirst=True, hour24=True)
        # numbers as numbers, everything else as the text Clockify shows
        row[14] = float(row[14])
        row[15] = float(row[15])
        row[16] = float(row[16])
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            # text a spreadsheet would run as a formula stays text
            if isinstance(cell.value, str) and cell.value[:1] in FORMULA_CHARS:
                cell.data_type = "s"
    fixed = dt.datetime(*_XLSX_TIME)
    wb.properties.creator = "Clockify"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    return _deterministic_xlsx(wb)


def _deterministic_xlsx(wb) -> bytes:
    """The workbook as XLSX bytes that do not depend on when they were written."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_XLSX_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


TOGGL_HEADER = ["User", "Email", "Client", "Project", "Task", "Description", "Billable",
                "Start date", "Start time", "End date", "End time", "Duration", "Tags"]


def _toggl_csv(entries: list[Entry]) -> bytes:
    rows = [TOGGL_HEADER]
    for e in entries:
        client, project, _ = _W[e.work]
        rows.append([e.person.tracked_as, _email(e.person), client, project, e.task, e.description,
                     "Yes" if e.billable else "No", e.start.strftime("%Y-%m-%d"),
                     e.start.strftime("%H:%M:%S"), e.end.strftime("%Y-%m-%d"),
                     e.end.strftime("%H:%M:%S"), _hms(e.seconds, pad=False), e.tags])
    return _csv_text(rows, quote_all=True, newline="\n").encode("utf-8")


HARVEST_HEADER = ["Date", "Client", "Project", "Project Code", "Task", "Notes", "Hours", "Billable?",
                  "Invoiced?", "Approved?", "First Name", "Last Name", "Employee Id", "Roles",
                  "Employee?", "Billable Rate", "Billable Amount", "Cost Rate", "Cost Amount",
                  "Currency", "External Reference URL"]
_PROJECT_CODES = {"h_report": "GLP-AR26", "h_brand": "ACME-BR", "h_photo": "ANT-C27", "h_q4": "NB-Q4"}


def _harvest_number(x: Decimal) -> str:
    """Harvest's number style: shortest decimals (8.0, 9.8, 0.02), thousands with commas."""
    text = f"{x.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}.{frac or '0'}"


def _harvest_csv(entries: list[Entry]) -> bytes:
    rows = [HARVEST_HEADER]
    for e in entries:
        client, project, _ = _W[e.work]
        hours = _decimal_hours(e.seconds)
        rate = Decimal(e.person.rate)
        cost = Decimal(e.person.rate * 6 // 10)
        first, last = e.person.tracked_as.split(" ", 1)
        rows.append([e.start.strftime("%Y-%m-%d"), client, project, _PROJECT_CODES[e.work], e.task,
                     e.description, _harvest_number(hours), "Yes" if e.billable else "No",
                     "Yes" if e.start.date() <= PERIODS[0][1] else "No",
                     "Yes" if e.approved else "No", first, last, "", "Contractor", "No",
                     _harvest_number(rate), _harvest_number(rate * hours),
                     _harvest_number(cost), _harvest_number(cost * hours), "US Dollar - USD", ""])
    return _csv_text(rows, quote_all=False, newline="\n").encode("utf-8")


# ----------------------------------------------------- QuickBooks Online JSON
def _meta(n: int) -> dict:
    created = dt.datetime(2024, 3, 4, 9, 0, 0) + dt.timedelta(days=11 * n, minutes=7 * n)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S-08:00")
    return {"CreateTime": stamp, "LastUpdatedTime": stamp}


def _qbo_people(vendor: bool) -> list[dict]:
    out = []
    for p in PEOPLE:
        if p.qbo_id is None or p.vendor != vendor:
            continue
        display = p.display + ("" if p.active else " (deleted)")
        rec: dict = {"BillableTime": bool(p.rate) and not vendor, "domain": "QBO", "sparse": False,
                     "Id": p.qbo_id, "SyncToken": "0" if p.active else "1",
                     "MetaData": _meta(int(p.qbo_id))}
        if p.given:
            rec["GivenName"] = p.given
            rec["FamilyName"] = p.family
        if vendor and not p.given:
            rec["CompanyName"] = p.display
        if vendor and p.key == "peter":
            rec["CompanyName"] = p.display
        rec["DisplayName"] = display
        rec["PrintOnCheckName"] = p.display
        rec["Active"] = p.active
        if p.email:
            rec["PrimaryEmailAddr"] = {"Address": _email(p)}
        if not vendor:
            rec["EmployeeNumber"] = p.number
            if p.rate:
                rec["BillRate"] = p.rate
        else:
            if p.rate:  # contractors bill by the hour; suppliers have no rate
                rec["BillRate"] = p.rate
            rec["Vendor1099"] = bool(p.given)
            rec["Balance"] = 0
            rec["CurrencyRef"] = {"value": "USD", "name": "United States Dollar"}
        out.append(rec)
    return out


def _qbo_customer(c: Customer) -> dict:
    leaf = c.path[-1] + ("" if c.active else " (deleted)")
    fqn = ":".join((*c.path[:-1], leaf))
    rec: dict = {"Taxable": False, "Job": len(c.path) > 1, "BillWithParent": False,
                 "Balance": 0, "BalanceWithJobs": 0,
                 "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
                 "PreferredDeliveryMethod": "Print", "IsProject": c.project, "domain": "QBO",
                 "sparse": False, "Id": c.qbo_id, "SyncToken": "0", "MetaData": _meta(int(c.qbo_id)),
                 "FullyQualifiedName": fqn, "CompanyName": c.path[0], "DisplayName": leaf,
                 "PrintOnCheckName": c.path[-1], "Active": c.active}
    if len(c.path) > 1:
        parent = _CUSTOMER_BY_FULL[":".join(c.path[:-1])]
        rec["ParentRef"] = {"value": parent.qbo_id}
        rec["Level"] = len(c.path) - 1
    return rec


def _qbo_item(item: Item) -> dict:
    name = item.path[-1] + ("" if item.active else " (deleted)")
    rec: dict = {"Name": name, "Active": item.active, "FullyQualifiedName": ":".join((*item.path[:-1], name)),
                 "Taxable": False, "Type": item.type, "domain": "QBO", "sparse": False,
                 "Id": item.qbo_id, "SyncToken": "0", "MetaData": _meta(int(item.qbo_id))}
    if item.type != "Category":
        rec["UnitPrice"] = item.price
        rec["IncomeAccountRef"] = {"value": "1", "name": "Services"}
        rec["TrackQtyOnHand"] = False
    if len(item.path) > 1:
        parent = next(i for i in ITEMS if i.path == item.path[:-1])
        rec["SubItem"] = True
        rec["ParentRef"] = {"value": parent.qbo_id, "name": parent.path[-1]}
        rec["Level"] = len(item.path) - 1
    return rec


def _qbo_response(entity: str, records: list[dict], start: int = 1) -> bytes:
    doc = {"QueryResponse": {entity: records, "startPosition": start, "maxResults": len(records)},
           "time": PULLED}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _qbo_files() -> dict[str, bytes]:
    customers = sorted((_qbo_customer(c) for c in CUSTOMERS), key=lambda r: r["DisplayName"].casefold())
    # ORDERBY DisplayName, MAXRESULTS 12: children land on a page before or after their
    # parents; a customer added between the two requests shifts the second page back by one
    page1, page2 = customers[:12], customers[11:]
    return {
        "qbo/Employee.json": _qbo_response("Employee", _qbo_people(vendor=False)),
        "qbo/Vendor.json": _qbo_response("Vendor", _qbo_people(vendor=True)),
        "qbo/Customer_page1.json": _qbo_response("Customer", page1, 1),
        "qbo/Customer_page2.json": _qbo_response("Customer", page2, 13),
        "qbo/Item.json": _qbo_response("Item", [_qbo_item(i) for i in ITEMS]),
        "qbo/Class.json": _qbo_response("Class", [
            {"Name": name, "SubClass": False, "FullyQualifiedName": name, "Active": True,
             "domain": "QBO", "sparse": False, "Id": cid, "SyncToken": "0", "MetaData": _meta(3)}
            for cid, name in CLASSES]),
    }


# -------------------------------------------------- QuickBooks Desktop files
_IIF_TIMESTAMP = "1794268800"
_EMP_HEADER = ["NAME", "REFNUM", "TIMESTAMP", "INIT", "ADDR1", "ADDR2", "ADDR3", "ADDR4", "ADDR5",
               "SSNO", "PHONE1", "PHONE2", "NOTEPAD", "FIRSTNAME", "MIDINIT", "LASTNAME",
               "SALUTATION", "CUSTFLD1", "CUSTFLD2", "CUSTFLD3", "CUSTFLD4", "CUSTFLD5", "CUSTFLD6",
               "CUSTFLD7", "HIDDEN", "DELCOUNT"]
_VEND_HEADER = ["NAME", "REFNUM", "TIMESTAMP", "PRINTAS", "ADDR1", "ADDR2", "ADDR3", "ADDR4", "ADDR5",
                "VTYPE", "CONT1", "CONT2", "PHONE1", "PHONE2", "FAXNUM", "EMAIL", "NOTE", "TAXID",
                "LIMIT", "TERMS", "NOTEPAD", "SALUTATION", "COMPANYNAME", "FIRSTNAME", "MIDINIT",
                "LASTNAME", "1099", "HIDDEN", "DELCOUNT"]
_CUST_HEADER = ["NAME", "REFNUM", "TIMESTAMP", "BADDR1", "BADDR2", "BADDR3", "BADDR4", "BADDR5",
                "SADDR1", "SADDR2", "SADDR3", "SADDR4", "SADDR5", "PHONE1", "PHONE2", "FAXNUM",
                "EMAIL", "NOTE", "CONT1", "CONT2", "CTYPE", "TERMS", "TAXABLE", "SALESTAXCODE",
                "LIMIT", "RESALENUM", "REP", "TAXITEM", "NOTEPAD", "SALUTATION", "COMPANYNAME",
                "FIRSTNAME", "MIDINIT", "LASTNAME", "JOBDESC", "JOBTYPE", "JOBSTATUS", "JOBSTART",
                "JOBPROJEND", "JOBEND", "HIDDEN", "DELCOUNT", "PRICELEVEL"]
_ITEM_HEADER = ["NAME", "REFNUM", "TIMESTAMP", "INVITEMTYPE", "DESC", "PURCHASEDESC", "ACCNT",
                "ASSETACCNT", "COGSACCNT", "PRICE", "COST", "TAXABLE", "PAYMETH", "TAXVEND",
                "PREFVEND", "REORDERPOINT", "EXTRA", "HIDDEN", "DELCOUNT"]
_QBD_ITEM_TYPE = {"Service": "SERV", "NonInventory": "PART", "Category": "SERV"}


def _iif_field(v: str) -> str:
    return f'"{v.replace(chr(34), chr(34) * 2)}"' if ("," in v or '"' in v) else v


def _iif_line(key: str, header: list[str], values: dict[str, str]) -> str:
    return "\t".join([key, *(_iif_field(values.get(h, "")) for h in header)])


def _qbd_customer_name(c: Customer) -> str:
    return ":".join(c.qbd_path or c.path)


def _qbd_customers() -> list[Customer]:
    return sorted(CUSTOMERS, key=lambda c: _qbd_customer_name(c).casefold())


def _iif_lists() -> bytes:
    lines = ["\t".join(["!HDR", "PROD", "VER", "REL", "IIFVER", "DATE", "TIME", "ACCNTNT",
                        "ACCNTNTSPLITTIME"]),
             "\t".join(["HDR", "QuickBooks Pro", "Version 34.0D", "Release R6P", "1", "2026-11-16",
                        _IIF_TIMESTAMP, "N", "0"]),
             "\t".join(["!ACCNT", "NAME", "REFNUM", "TIMESTAMP", "ACCNTTYPE", "OBAMOUNT", "DESC",
                        "ACCNUM", "SCD", "BANKNUM", "EXTRA", "HIDDEN", "DELCOUNT", "USEID"]),
             "\t".join(["ACCNT", "Checking", "1", _IIF_TIMESTAMP, "BANK", "0.00", "", "1000", "", "",
                        "", "N", "0", "N"]),
             "\t".join(["ACCNT", "Services", "2", _IIF_TIMESTAMP, "INC", "0.00", "", "4000", "", "",
                        "", "N", "0", "N"]),
             "\t".join(["!EMP", *_EMP_HEADER])]
    ref = 100
    for p in PEOPLE:
        if p.qbo_id is None or p.vendor:
            continue
        ref += 1
        name = p.qbd_name or p.display
        first, last = ([*name.split(" ", 1), ""])[:2] if p.qbd_name else (p.given, p.family)
        lines.append(_iif_line("EMP", _EMP_HEADER, {
            "NAME": name, "REFNUM": str(ref), "TIMESTAMP": _IIF_TIMESTAMP,
            "INIT": first[:1] + last[:1], "FIRSTNAME": first, "LASTNAME": last,
            "HIDDEN": "N" if p.active else "Y", "DELCOUNT": "0"}))
    lines.append("\t".join(["!VEND", *_VEND_HEADER]))
    for p in PEOPLE:
        if p.qbo_id is None or not p.vendor:
            continue
        ref += 1
        lines.append(_iif_line("VEND", _VEND_HEADER, {
            "NAME": p.display, "REFNUM": str(ref), "TIMESTAMP": _IIF_TIMESTAMP, "PRINTAS": p.display,
            "COMPANYNAME": p.display if not p.given or p.key == "peter" else "",
            "FIRSTNAME": p.given, "LASTNAME": p.family, "1099": "Y" if p.given else "N",
            "HIDDEN": "N", "DELCOUNT": "0"}))
    lines.append("\t".join(["!CUST", *_CUST_HEADER]))
    for c in _qbd_customers():
        ref += 1
        top = (c.qbd_path or c.path)[0]
        lines.append(_iif_line("CUST", _CUST_HEADER, {
            "NAME": _qbd_customer_name(c), "REFNUM": str(ref), "TIMESTAMP": _IIF_TIMESTAMP,
            "BADDR1": top, "TAXABLE": "N", "COMPANYNAME": top,
            "JOBSTATUS": "In progress" if len(c.path) > 1 and c.active else "",
            "HIDDEN": "N" if c.active else "Y", "DELCOUNT": "0"}))
    lines.append("\t".join(["!INVITEM", *_ITEM_HEADER]))
    for item in ITEMS:
        if item.path == ("Hours",) or item.path == ("Services",):
            continue  # QuickBooks Online's defaults; Desktop has none
        ref += 1
        lines.append(_iif_line("INVITEM", _ITEM_HEADER, {
            "NAME": item.full, "REFNUM": str(ref), "TIMESTAMP": _IIF_TIMESTAMP,
            "INVITEMTYPE": _QBD_ITEM_TYPE[item.type], "DESC": item.path[-1],
            "ACCNT": "Services", "PRICE": f"{item.price:.2f}", "COST": "0.00", "TAXABLE": "N",
            "HIDDEN": "N" if item.active else "Y", "DELCOUNT": "0"}))
    lines.append("\t".join(["!CLASS", "NAME", "REFNUM", "TIMESTAMP", "HIDDEN"]))
    for _, name in CLASSES:
        ref += 1
        lines.append("\t".join(["CLASS", name, str(ref), _IIF_TIMESTAMP, "N"]))
    lines.append("\t".join(["!OTHERNAME", "NAME", "REFNUM", "TIMESTAMP", "BADDR1", "HIDDEN"]))
    lines.append("\t".join(["OTHERNAME", "Owner draw", str(ref + 1), _IIF_TIMESTAMP, "", "N"]))
    # Desktop writes its IIF exports in the Windows code page, with CRLF line ends
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _list_id(n: int) -> str:
    return f"{0x80000000 + n:X}-1729000000"


def _xml_escape(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _qbxml_doc(body: str) -> str:
    return (f'<?xml version="1.0" ?>\n<QBXML>\n<QBXMLMsgsRs>\n{body}</QBXMLMsgsRs>\n</QBXML>\n')


def _qbxml_customers() -> bytes:
    customers = _qbd_customers()
    ids = {c.qbo_id: _list_id(i + 1) for i, c in enumerate(sorted(CUSTOMERS, key=lambda c: int(c.qbo_id)))}
    rets = []
    for c in customers:
        path = c.qbd_path or c.path
        parent = ""
        if len(path) > 1:
            p = next(x for x in CUSTOMERS if (x.qbd_path or x.path) == path[:-1])
            parent = (f"<ParentRef>\n<ListID>{ids[p.qbo_id]}</ListID>\n"
                      f"<FullName>{_xml_escape(':'.join(path[:-1]))}</FullName>\n</ParentRef>\n")
        rets.append(
            f"<CustomerRet>\n<ListID>{ids[c.qbo_id]}</ListID>\n<TimeCreated>2024-03-04T09:00:00-08:00"
            f"</TimeCreated>\n<TimeModified>2026-10-01T10:00:00-08:00</TimeModified>\n"
            f"<EditSequence>17{c.qbo_id.zfill(8)}</EditSequence>\n<Name>{_xml_escape(path[-1])}</Name>\n"
            f"<FullName>{_xml_escape(':'.join(path))}</FullName>\n"
            f"<IsActive>{'true' if c.active else 'false'}</IsActive>\n{parent}"
            f"<Sublevel>{len(path) - 1}</Sublevel>\n"
            f"<CompanyName>{_xml_escape(path[0])}</CompanyName>\n"
            f"<Balance>0.00</Balance>\n<TotalBalance>0.00</TotalBalance>\n"
            f"<JobStatus>{'InProgress' if len(path) > 1 else 'None'}</JobStatus>\n</CustomerRet>\n")
    # an iterator query (MaxReturned 12): two responses, saved one after the other
    first, second = rets[:12], rets[12:]
    iterator = "{5d3b2c1a-9e8f-4a7b-b6c5-d4e3f2a1b0c9}"
    docs = [
        _qbxml_doc(f'<CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" '
                   f'statusMessage="Status OK" retCount="{len(first)}" '
                   f'iteratorRemainingCount="{len(second)}" iteratorID="{iterator}">\n'
                   + "".join(first) + "</CustomerQueryRs>\n"),
        _qbxml_doc(f'<CustomerQueryRs requestID="2" statusCode="0" statusSeverity="Info" '
                   f'statusMessage="Status OK" retCount="{len(second)}" '
                   f'iteratorRemainingCount="0" iteratorID="{iterator}">\n'
                   + "".join(second) + "</CustomerQueryRs>\n"),
    ]
    return "".join(docs).encode("utf-8")


def _qbxml_employees() -> bytes:
    rets = []
    for n, p in enumerate((p for p in PEOPLE if p.qbo_id and not p.vendor), start=101):
        name = p.qbd_name or p.display
        first, last = (name.split(" ", 1) if p.qbd_name else (p.given, p.family))
        rets.append(
            f"<EmployeeRet>\n<ListID>{_list_id(n)}</ListID>\n<TimeCreated>2024-03-04T09:00:00-08:00"
            f"</TimeCreated>\n<TimeModified>2026-10-01T10:00:00-08:00</TimeModified>\n"
            f"<EditSequence>17{n:08d}</EditSequence>\n<Name>{_xml_escape(name)}</Name>\n"
            f"<IsActive>{'true' if p.active else 'false'}</IsActive>\n"
            f"<FirstName>{_xml_escape(first)}</FirstName>\n<LastName>{_xml_escape(last)}</LastName>\n"
            f"<Email>{_email(p)}</Email>\n<AccountNumber>{p.number}</AccountNumber>\n"
            f"<EmployeeType>Regular</EmployeeType>\n</EmployeeRet>\n")
    return _qbxml_doc('<EmployeeQueryRs requestID="1" statusCode="0" statusSeverity="Info" '
                      'statusMessage="Status OK">\n' + "".join(rets)
                      + "</EmployeeQueryRs>\n").encode("utf-8")


# ----------------------------------------------------------- expected matches
def _expected(entries: list[Entry]) -> bytes:
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for e in entries:
        p = e.person
        # source names as the canonical entries carry them: outer spaces trimmed
        rows[("employee", p.tracked_as.strip())] = (p.qbo_id or "", p.display if p.qbo_id else "")
        if e.work:
            client, project, true = _W[e.work]
            client, project = client.strip(), project.strip()
            source = f"{client}:{project}" if client else project
            c = _CUSTOMER_BY_FULL.get(true) if true else None
            rows[("customer", source)] = (c.qbo_id, c.full) if c else ("", "")
    out = [["kind", "source_name", "qb_id", "qb_name"]]
    out += [[k, s, i, n] for (k, s), (i, n) in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1].casefold()))]
    return _csv_text(out, quote_all=True, newline="\n").encode("utf-8")


# ===================================================================== files
CLOCKIFY_P1 = "clockify/Clockify_Time_Report_Detailed_10_16_2026-10_31_2026.csv"
CLOCKIFY_P2 = "clockify/Clockify_Time_Report_Detailed_01_11_2026-15_11_2026.xlsx"
TOGGL = "toggl/Toggl_time_entries_2026-10-16_to_2026-11-15.csv"
HARVEST = "harvest/harvest_time_report_from2026-10-16to2026-11-15.csv"


def _sample_files() -> dict[str, bytes]:
    entries = _all_entries()
    by = {t: [e for e in entries if e.person.tracker == t] for t in ("clockify", "toggl", "harvest")}
    p1_end = PERIODS[0][1]
    files = {
        CLOCKIFY_P1: _clockify_csv([e for e in by["clockify"] if e.start.date() <= p1_end]),
        CLOCKIFY_P2: _clockify_xlsx([e for e in by["clockify"] if e.start.date() > p1_end]),
        TOGGL: _toggl_csv(by["toggl"]),
        HARVEST: _harvest_csv(by["harvest"]),
        **_qbo_files(),
        "qbd/lists.IIF": _iif_lists(),
        "qbd/CustomerQueryRs.xml": _qbxml_customers(),
        "qbd/EmployeeQueryRs.xml": _qbxml_employees(),
        "expected_matches.csv": _expected(entries),
    }
    files["README.md"] = _readme(entries, by).encode("utf-8")
    return files


def write_samples(out_dir: str | os.PathLike) -> list[Path]:
    """Write the sample exports and QuickBooks lists into ``out_dir``.

    Args:
        out_dir: the folder (created if missing); existing sample files are replaced.

    Returns:
        The files written, in a stable order.

    Example:
        >>> import tempfile
        >>> files = write_samples(tempfile.mkdtemp())
        >>> sorted(f.name for f in files if f.suffix == ".xml")
        ['CustomerQueryRs.xml', 'EmployeeQueryRs.xml']
    """
    root = Path(out_dir)
    written = []
    for rel, data in _sample_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def samples_dir() -> Path:
    """The folder holding the sample files.

    The repository's ``data/samples`` when qbrecon runs from a checkout; otherwise a
    copy generated once into the per-user cache folder (``$XDG_CACHE_HOME/qbrecon`` or
    ``~/.cache/qbrecon``; ``%LOCALAPPDATA%\\qbrecon`` on Windows).
    """
    repo = Path(__file__).resolve().parent.parent / "data" / "samples"
    if (repo / "qbo").is_dir() and (repo / "expected_matches.csv").is_file():
        return repo
    from . import __version__

    base = os.environ.get("XDG_CACHE_HOME") or (
        os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    cache = (Path(base) if base else Path.home() / ".cache") / "qbrecon"
    target = cache / f"samples-{__version__}-r{SAMPLES_REVISION}"
    if (target / ".complete").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".samples-", dir=cache))
    try:
        write_samples(tmp)
        (tmp / ".complete").write_text("ok\n")
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first
            if not (target / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# ==================================================================== README
def _readme(entries: list[Entry], by: dict[str, list[Entry]]) -> str:
    p1_end = PERIODS[0][1]
    n_p1 = sum(e.start.date() <= p1_end for e in by["clockify"])
    n_p2 = len(by["clockify"]) - n_p1
    people = [p for p in PEOPLE if p.tracker]
    truth = "\n".join(
        f"| {p.tracker} | `{p.tracked_as}` | "
        + (f"{'Vendor' if p.vendor else 'Employee'} {p.qbo_id} `{p.display}`"
           + ("" if p.active else " (inactive: `(deleted)` in QBO, HIDDEN in IIF)")
           if p.qbo_id else "none (new hire)") + " |"
        for p in people)
    seen: dict[str, tuple[str, str | None]] = {}
    for e in entries:
        if e.work:
            client, project, true = _W[e.work]
            seen.setdefault(f"{client}:{project}" if client else project, (e.person.tracker, true))
    ctruth = "\n".join(f"| {t} | `{s}` | " + (f"{_CUSTOMER_BY_FULL[q].qbo_id} `{q}`" if q else "none")
                       + " |" for s, (t, q) in sorted(seen.items(), key=lambda kv: kv[0].casefold()))
    return _README.format(
        company=COMPANY, n_all=len(entries), n_p1=n_p1, n_p2=n_p2, n_toggl=len(by["toggl"]),
        n_harvest=len(by["harvest"]), clockify_p1=CLOCKIFY_P1, clockify_p2=CLOCKIFY_P2,
        toggl=TOGGL, harvest=HARVEST, people=truth, customers=ctruth, seed=SEED)


_README = """# Sample data

Realistic exports of one small firm, **{company}** (a design and consulting shop),
over two semi-monthly pay periods: 2026-10-16..31 and 2026-11-01..15. Written by
`qbrecon.samples.write_samples()` (`qbrecon samples OUT` from the command line) from
the tables in `qbrecon/samples.py` and a seeded random generator (seed {seed}): do not
edit these files by hand; change the generator and run it again. A test regenerates
them and fails when they drift.

{n_all} time entries in all.

| file | what it is |
|---|---|
| `{clockify_p1}` | Clockify Detailed report, period 1 ({n_p1} entries): fully quoted CSV, CRLF line ends, dates MM/DD/YYYY, 12-hour times, with `Billable Rate (USD)`, `Billable Amount (USD)` and `Date of creation` |
| `{clockify_p2}` | Clockify Detailed report, period 2 ({n_p2} entries) as Excel: dates DD/MM/YYYY and 24-hour times (exported by an admin with a European profile), dates, times and `Duration (h)` as text cells, `Duration (decimal)`, rate and amount as numbers |
| `{toggl}` | Toggl Track detailed CSV, current layout ({n_toggl} entries, both periods): fully quoted, ISO dates, unpadded durations (`3:05:10`), no amount column |
| `{harvest}` | Harvest detailed time CSV ({n_harvest} entries, both periods): decimal hours only, `First Name`/`Last Name`, `Approved?`, amounts of 1,000 and more quoted with a thousands comma (`"1,200.0"`) |
| `qbo/Employee.json`, `qbo/Vendor.json`, `qbo/Item.json`, `qbo/Class.json` | QuickBooks Online API query responses (`select * from X where Active in (true, false)`) |
| `qbo/Customer_page1.json`, `qbo/Customer_page2.json` | the Customer query in two pages (`ORDERBY DisplayName`, 12 per page) |
| `qbd/lists.IIF` | the same company in QuickBooks Desktop: an IIF list export (Windows-1252, CRLF) with `!HDR`, `!ACCNT`, `!EMP`, `!VEND`, `!CUST`, `!INVITEM`, `!CLASS`, `!OTHERNAME` |
| `qbd/CustomerQueryRs.xml` | qbXML CustomerQueryRs from an iterator query: two responses saved one after the other |
| `qbd/EmployeeQueryRs.xml` | qbXML EmployeeQueryRs (`ActiveStatus` All) |
| `expected_matches.csv` | the truth: `kind, source_name, qb_id, qb_name` for every name the trackers use, against the QuickBooks Online lists; `qb_id` empty where QuickBooks has no record. `source_name` is the name as the loaded entries carry it (the tracker's text with outer spaces trimmed; inner spaces kept): the user name (Harvest: first and last name joined by a space), and for customers `Client:Project`, or `Project` when the entry has no client |

## People: tracker name → QuickBooks

| tracker | tracked as | QuickBooks Online record |
|---|---|---|
{people}

Distractors with no time: employee 68 `Olivia Grant`; vendors 43 `Adobe Inc.`, 44 `WeWork`,
45 `Bell Printing Co.` (next to contractor `Marcus Bell`).

## Customers: tracker name → QuickBooks

| tracker | source name | QuickBooks Online customer (full name) |
|---|---|---|
{customers}

Distractors: `Acme Tailors` (next to `Acme & Sons, LLC`), the inactive `Old Mill Bakery`
and `Anadolu Tekstil A.Ş.:Catalog 2026` (both `(deleted)` in QBO, `HIDDEN` Y in IIF).

## Traps, on purpose

People
- `Reyes, Daniel` (Last, First), `mirac.cicek` (a username for `Miraç Çiçek`), `R. Chen`
  (an initial; `Grace Chen` shares the surname), `Jonathon Whitfield` (typo), `Zoe Laurent`
  (accent dropped from `Zoë`), `priya raman` (casing), `Sofia  Marquez ` (double and
  trailing space), `Tomas O’Brien` (curly apostrophe, accent dropped), `Sule Yildiz`
  for `Şule Yıldız` (the Turkish dotless ı has no accent to strip: plain accent folding
  does not turn it into i), `Inês Carvalho` (Harvest adds an accent QuickBooks lacks),
  `Peter Novak` (the contractor's vendor record is his company, `Peter Novak Consulting`).
- Two Daniels (`Reyes, Daniel`, `Daniel Kim`) and two Chens.
- `Hannah Brooks` is inactive in QuickBooks (`Hannah Brooks (deleted)` in QBO) and still
  has entries in period 1.
- `Lena Fischer` joined in period 2 and has no QuickBooks record yet.
- The contractors (`Marcus Bell`, `Inês Carvalho`, `Peter Novak`) are QuickBooks
  Vendors, not Employees.
- Emails in Clockify and Toggl match QuickBooks' `PrimaryEmailAddr` where QuickBooks has
  one (a second key for people).

Customers
- `Acme and Sons` / `Acme & Sons` for `Acme & Sons, LLC` ("&" vs "and", legal suffix),
  `Café Lumière` (Clockify) and `Cafe Lumiere` (Toggl) for one client, `Muebles Feijo`
  for `Muebles Feijó S.L.`, `Anadolu Tekstil` / `Anadolu Tekstil A.S.` for
  `Anadolu Tekstil A.Ş.`, `North Bridge Ltd` / `Northbridge` for `Northbridge Ltd`,
  `Greenleaf Partners` / `Greenleaf Partners, Inc.` for `Greenleaf Partners Inc.`,
  `Hartwell Dental` for `Hartwell Dental Group`.
- `Website Redesign` exists under two parents (`Acme & Sons, LLC` and `Café Lumière`).
- `Anadolu Tekstil A.Ş.:Catalog 2027:Photography` is two levels deep; the trackers call it
  `Catalog 2027 / Photography` (Clockify) and `Catalog 2027 - Photography` (Harvest).
- `Hartwell Dental Group` is tracked as a project without a client (the customer itself);
  `Hartwell Dental Group:Patient Portal` is a QuickBooks Online Project (`IsProject`).
- `Internal` (non-billable) and `Solstice Yoga:Brand Identity` (a new client, period 2)
  have no QuickBooks record.

Entries
- A 30-hour entry (`R. Chen`, 10/21, a timer left running).
- An entry crossing midnight (`Grace Chen`, 10/11/2026 22:30 → 11/11/2026 01:15).
- A zero-length entry (`Zoe Laurent`, 10/27).
- Non-billable entries (`Internal` in Clockify, some in Toggl); unapproved entries
  (Harvest, `Approved?` No from 2026-11-09).
- A billable entry without a project or client (`Reyes, Daniel`, "Call with prospect").
- A billable entry with no rate (`Jonathon Whitfield`, 10/19: Clockify writes `0.00`);
  Toggl's current layout has no rate column at all.
- A description with a line break inside the quotes (Clockify CSV, 10/19), and
  descriptions starting with `=`, `@`, `+` and `-` in every file (formula injection if
  written to a spreadsheet unescaped; in the Clockify XLSX they are text cells).
- A few Clockify period-1 times without seconds (`10:23 AM`) among `10:23:52 AM`.
- Clockify `Tags` with several values (`Meetings, Client`).

QuickBooks lists
- `(deleted)` suffixes on inactive QBO records (employee, customers, item `Retainer`).
- The customer pages are ordered by name, so sub-customers come before their parents and
  on a different page; the last record of page 1 is repeated at the top of page 2.
- Items include QBO's default `Services` and `Hours`, a `Category` with sub-items
  (`Creative Services:Photography`), a non-inventory item and an inactive one.
- The IIF is Windows-1252 with CRLF; Desktop cannot store `Ş`/`ı`, so the company there
  is `Anadolu Tekstil A.S.` and the employee `Sule Yildiz`. Names with a comma are
  quoted (`"Acme & Sons, LLC"`). IIF has no ids (REFNUM instead); qbXML has ListIDs.
"""
