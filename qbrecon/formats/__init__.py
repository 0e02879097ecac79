"""QuickBooks file formats, both ways: qbXML (build requests, parse responses) and IIF
(read list exports, write timer activities)."""
