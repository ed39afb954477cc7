"""smweb's benchmark harness (issue 8): seed a synthetic data set, serve it with gunicorn, and
print throughput, latency, CPU time, SQL statements and page sizes beside a bare Flask app.

`python -m bench --help` measures; `python -m bench.seed --help` only seeds;
`python -m bench.load --help` runs the concurrency check. See bench/README.md.
"""
