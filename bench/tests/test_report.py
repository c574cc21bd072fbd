"""The table and the targets of `make bench` from made-up figures: a renamed row fails here, not after
eight minutes of measuring."""

from bench import __main__ as bench_main

HTTP_ROWS = (
    "nginx_ceiling",
    "python_ceiling",
    "flask_ceiling",
    "me",
    "pat_me",
    "protected",
    "gateway",
    "peer",
    "me_without_metrics",
)


def http_row(rps: float) -> dict:
    """One HTTP row as measure_throughput records it."""
    one = {"rps": rps, "p50_ms": 1.0, "p99_ms": 9.0, "errors": 0, "rounds_rps": [rps] * 3}
    return {"c16": dict(one), "c64": dict(one)}


def asymmetric(prefix: str, rps: float, peer: float) -> dict:
    """The rows bench.eddsa.measure returns for one JWT_ALG."""
    row = {"rps": rps, "p99_ms": 20.0, "errors": 0, "rounds_rps": [rps] * 3, "over_peer": rps / peer}
    return {
        f"{prefix}_me": dict(row),
        f"{prefix}_gateway": dict(row),
        "peer": {"rps": peer, "p99_ms": 30.0, "errors": 0, "rounds_rps": [peer] * 3},
    }


def made_up_results() -> dict:
    """Every key main() fills in, with round figures: /me 5000/s, the peer 2500/s."""
    http = {name: http_row(5000.0) for name in HTTP_ROWS}
    http["peer"] = http_row(2500.0)
    return {
        "started": "2026-12-02T05:00:00Z",
        "cores": 2,
        "load_before": "1.00 1.00 1.00",
        "rounds": 3,
        "seconds": 3.0,
        "http": http,
        "logins": {
            "bcrypt_rounds": 12,
            "cores": 2,
            "login_per_s": 9.0,
            "raw_bcrypt_per_s": 9.5,
            "one_check_s": 0.21,
            "rounds": {"login_per_s": [9.0] * 3, "raw_bcrypt_per_s": [9.5] * 3},
        },
        "storm": {
            "auth_rate_limit": "5r/s",
            "clients": 32,
            "offered_per_s": 24.0,
            "statuses": {"200": 10, "429": 30},
            "accepted_per_s": 6.0,
            "accepted_p50_s": 1.0,
            "accepted_max_s": 2.0,
            "accepted_alone_max_s": 2.0,
            "accepted_beside_me_max_s": 2.5,
            "rejected_429_p50_ms": 1000.0,
            "rejected_429_p99_ms": 2000.0,
            "other_max_s": None,
            "abandoned": 3,
            "driver_cpu_share": 0.04,
            "auth_busy_after_storm_s": 2.0,
            "me_rps": 4000.0,
            "me_alone_rps": 5000.0,
            "me_ratio": 0.8,
            "me_p99_ms": 40.0,
            "rounds_me_rps": [4000] * 3,
        },
        "burst": {
            "size": 10,
            "deadline_s": 2.0,
            "served_min": 10,
            "rounds_served": [10, 10, 10],
            "slowest_s": 1.9,
            "statuses": [200],
        },
        "same_time": {
            "login": {"first_ms": 210.0, "second_ms": 212.0, "difference": 0.01, "statuses": {"401": 60}},
            "reset": {"first_ms": 20.0, "second_ms": 21.0, "difference": 0.05, "statuses": {"202": 60}},
        },
        "eddsa": asymmetric("eddsa", 4500.0, 2500.0),
        "es256": asymmetric("es256", 4000.0, 2500.0),
        "verify_cost": {
            alg: {"verify_us": 100.0, "cache_hit_us": 0.5} for alg in ("HS256", "EdDSA", "ES256")
        },
        "memory": {
            "idle_rss_mb": 500.0,
            "idle_pss_mb": 250.0,
            "under_load_rss_mb": 560.0,
            "under_load_pss_mb": 270.0,
            "storm_rss_mb": 570.0,
            "storm_pss_mb": 280.0,
            "processes": 20,
        },
    }


def test_every_target_is_computed_and_judged():
    """Each target of TARGETS gets a value and a verdict; the paired ratios come out as made up."""
    results = made_up_results()
    targets = bench_main.targets(results)
    assert set(bench_main.TARGETS) <= set(targets)
    assert all(figure["value"] is not None for figure in targets.values()), targets
    assert targets["me_over_peer"]["value"] == 2.0 and targets["me_over_peer"]["ok"]
    assert targets["pat_me_over_peer"]["value"] == 2.0
    assert targets["eddsa_me_over_peer"]["value"] == 1.8
    assert targets["es256_gateway_over_peer"]["value"] == 1.6
    assert targets["burst_served"]["ok"]


def test_a_missed_target_says_so():
    """A ratio under its goal is reported MISSED (the check can fail)."""
    results = made_up_results()
    results["es256"] = asymmetric("es256", 3000.0, 2500.0)
    results["burst"]["served_min"] = 4
    targets = bench_main.targets(results)
    assert not targets["es256_me_over_peer"]["ok"]
    assert not targets["burst_served"]["ok"]


def test_the_table_has_every_row():
    """The printed table names each row the issues ask for, with its figure."""
    results = made_up_results()
    results["targets"] = bench_main.targets(results)
    table = bench_main.report(results)
    assert "GET /api/v1/me, personal access token" in table
    assert "JWT_ALG=EdDSA (c64): GET /api/v1/me 4500/s" in table
    assert "JWT_ALG=ES256 (c64): GET /api/v1/me 4000/s" in table
    assert "10 logins at once at cost 12: all served" in table
    assert "EdDSA 100 us (0.5 us)" in table
    for name in bench_main.TARGETS:
        assert f"  {name}" in table
