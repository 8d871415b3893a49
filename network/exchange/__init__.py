"""Open-data exchange of the directory: data·inclusion v1 and médiation numérique (LaMednum) in, four formats out.

- `report`: formats, the outcome of each row, import and export reports;
- `files`: input files refused whole on a file-level error, output files moved into place once complete;
- `rows`: row validation (the data·inclusion package and our rules) with French reasons, mapped rows;
- `datainclusion`, `mednum`: reading each format into mapped rows (no database access);
- `importing`: the write path, an upsert keyed by (source, source_id) in one transaction;
- `outgoing`: active rows read in pages and validated by the package for export;
- `export`: the four export formats.
"""
