"""Support code of bench/run: servers, measurements, rows and the report."""
