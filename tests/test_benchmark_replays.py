"""The benchmarks that replay mesomix's own statements must keep up with them: `make bench`
is not run by the suite, so a change to what a dispense writes (the audit chains per site gave
each row a place) is caught here, with a few dispenses, not by the next person to run it."""

from __future__ import annotations

from benchmarks import bench_dispense


def test_the_dispense_benchmark_replays_a_dispense_as_mesomix_writes_it(monkeypatch):
    monkeypatch.setattr(bench_dispense, "ROUNDS", 1)
    monkeypatch.setattr(bench_dispense, "PER_ROUND", 3)
    throughput, p99 = bench_dispense.run()  # it asserts the ledger is exact after the replays
    assert throughput.name == "dispense throughput" and throughput.value > 0
    assert throughput.baseline > 0 and "statements per dispense" in throughput.detail
    assert p99.name == "dispense p99 latency" and p99.value > 0
