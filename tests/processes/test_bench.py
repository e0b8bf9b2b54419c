"""The benchmarks still work: every scenario once, on a tiny load, through the suite runner
(bench/run.py), which writes the one results file. Never a timed test: the figures are the
benchmark's business (make bench), only their shape and that they make sense are checked
here."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bench import player, reminders, run, taps, timers
from bot.practice.machine import DUE_TOLERANCE

TINY = run.Plan(
    # Ten taps each: enough CPU for the bare bot too to measure above nothing.
    taps=((2, 10),),
    # One person, two taps each with its pause (1-2 s): a few seconds a bot.
    person=(1, 2),
    timers=timers.Plan((3,), warmup_s=1.0, steady_s=3.0),
    startup=(300, 6),
    stopping=(20,),
    # 20 pages; a window of 11 s holds at least one heartbeat flush (every 10 s). The whole
    # class of part 2 at TIME_SCALE 0.002: under 4 s in the player, and again in the chat.
    player=player.Plan(
        (20,), ramp_s=2.0, settle_s=1.0, window_s=11.0, class_scale=0.002, costs=(10, 30)
    ),
    reminders=reminders.Sizes(
        due=600,
        later=30,
        off=30,
        sample=20,
        sample_timeout_s=30.0,
        paid_sample=30,
        paid_seconds=2.0,
        select_repeats=3,
        claim_batches=4,
    ),
    ceiling_seconds=0.5,
    ceiling_concurrency=2,
)


# Once per test run, whichever pytest-xdist worker asks first: the others wait for its
# results file rather than running the suite again (as pytest-xdist's documentation
# advises for a session fixture that must run once). A module fixture was set up again
# whenever a worker ran other modules' tests between this module's: four runs of a
# minute each.
@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    # Under pytest-xdist, the folder above each worker's own is this run's, shared by all.
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    path = shared / "bench-results.json"
    with (shared / "bench-results.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            asyncio.run(run.suite(TINY, quick=True, results=path, report=False))
    return path


@pytest.fixture(scope="session")
def document(results: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(results.read_text())
    return loaded


def test_the_suite_writes_one_results_file_with_every_section(document: dict[str, Any]) -> None:
    assert set(document) == {
        "machine",
        "taps",
        "timers",
        "startup",
        "stopping",
        "player",
        "reminders",
        "emulator_ceiling",
        "calls",
    }
    machine = document["machine"]
    assert machine["cores"] >= 1 and machine["quick"] is True
    assert machine["commit"] and machine["python"] and machine["python_telegram_bot"]


def test_the_tap_benchmark_runs_each_bot(document: dict[str, Any]) -> None:
    runs = {r["bot"]: r for r in document["taps"]["runs"]}
    assert set(runs) == set(taps.BOTS)
    for bot, figures in runs.items():
        assert figures["users"] == 2 and figures["taps"] == 20
        assert figures["taps_per_second"] > 0 and figures["p50_ms"] > 0
        assert figures["cpu_ms_per_tap"] > 0
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["rss_idle_mb"] > 0
        assert figures["busiest_second_counted"] >= 1
        # The same run's RSS once yogabot has drawn /progress charts; the bare bots have none.
        if bot == "yogabot":
            assert figures["rss_after_chart_mb"] > 0 and figures["rss_after_charts_mb"] > 0
        else:
            assert figures["rss_after_chart_mb"] is None is figures["rss_after_charts_mb"]
        # A tap is answered by one message; yogabot may also retire the previous cue's
        # buttons (at once, or later when there is room under the limit).
        if bot == "yogabot":
            assert 1.0 <= figures["counted_calls_per_tap"] <= 2.0
        else:
            assert figures["counted_calls_per_tap"] == 1.0
        assert figures["calls_per_tap"] >= figures["counted_calls_per_tap"]
    assert {r["against"] for r in document["taps"]["ratios"]} == set(taps.BOTS) - {"yogabot"}
    for compared in document["taps"]["ratios"]:
        assert compared["cpu_per_tap"] > 0


def test_one_person_tapping_with_pauses_is_measured_apart_for_each_bot(
    document: dict[str, Any],
) -> None:
    section = document["taps"]["one_person"]
    runs = {r["bot"]: r for r in section["runs"]}
    assert set(runs) == set(taps.BOTS)
    low, high = taps.PERSON_PAUSE_S
    for bot, figures in runs.items():
        assert figures["people"] == 1 and figures["taps"] == 2
        assert low <= figures["pause_s"][0] <= figures["pause_s"][1] <= high
        # Each person began only once the bot's send window was empty.
        assert figures["quiet_before_s"] >= taps.QUIET_S
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        spans = figures["spans"]
        # The update leaves the emulator before the answer arrives, which is the tap's
        # latency; the tap's last call comes with it or after.
        assert 0 <= spans["delivered"]["p50"] <= spans["sent"]["p50"] <= spans["last_call"]["p50"]
        assert spans["sent"]["p50"] == figures["p50_ms"]
        assert spans["sent"]["p99"] == figures["p99_ms"]
        if bot == "yogabot":
            # A Next tap answers its button, sends the next cue, retires the old buttons.
            assert spans["answered"]["p50"] > 0 and figures["calls_per_tap"] >= 2.0
        else:
            assert "answered" not in spans and figures["counted_calls_per_tap"] == 1.0
    assert {r["against"] for r in section["ratios"]} == set(taps.BOTS) - {"yogabot"}
    for compared in section["ratios"]:
        assert compared["p50"] > 0 and compared["p99"] > 0


def test_a_figure_too_small_to_measure_has_no_ratio_rather_than_a_crash() -> None:
    measured = taps.TapRun("yogabot", 2, 6, 0.1, 60.0, 30.0, 35.0, 36.0, 1.5, 2.0, 1.5, 50.0, 6)
    unmeasured = taps.TapRun("bare PTB", 2, 6, 0.1, 90.0, 5.0, 6.0, 6.0, None, 1.0, 1.0, 40.0, 6)
    (compared,) = taps.ratios([measured, unmeasured])
    assert compared["cpu_per_tap"] is None
    assert compared["p50"] == 6.0 and compared["taps_per_second"] == pytest.approx(0.667)
    assert "not measured" in taps.table([unmeasured])


def test_cpu_time_is_read_finer_than_the_kernel_tick() -> None:
    # The bare bot spends about a millisecond a tap: read in 10 ms ticks, that is nothing.
    before = taps.cpu_seconds(os.getpid())
    spin_until = time.process_time() + 0.001
    while time.process_time() < spin_until:
        pass
    spent = taps.cpu_seconds(os.getpid()) - before
    assert 0.001 <= spent < 0.005


def test_the_timer_benchmark_measures_cues_against_their_stored_deadlines(
    document: dict[str, Any],
) -> None:
    section = document["timers"]
    assert section["cue_every_s"] == timers.CUE_EVERY
    (figures,) = section["runs"]
    assert figures["classes"] == 3
    assert figures["cues"] > 0 and figures["cues_deadline_unseen"] < figures["cues"]
    # Nothing moves a class on before its deadline (less the timer's tolerance), so no cue
    # can arrive before it: a negative lateness would mean misread deadlines.
    assert figures["lateness_min_ms"] >= -DUE_TOLERANCE.total_seconds() * 1000
    assert (
        figures["lateness_min_ms"]
        <= figures["lateness_p50_ms"]
        <= figures["lateness_p95_ms"]
        <= figures["lateness_p99_ms"]
        <= figures["lateness_max_ms"]
    )
    assert figures["class_mean_lateness_best_ms"] <= figures["class_mean_lateness_worst_ms"]
    assert 0 <= figures["classes_without_a_cue"] < 3
    # Every auto-advanced cue is at least its own send, and counted calls are calls.
    assert figures["counted_calls_per_cue"] >= 1.0
    assert figures["calls_per_cue"] >= figures["counted_calls_per_cue"]
    assert figures["busiest_second_counted"] >= 1
    # Each pose picture the classes showed was uploaded once, then sent by its file_id.
    assert figures["distinct_pictures"] >= 1
    assert figures["photo_uploads"] == figures["distinct_pictures"]
    assert figures["uploads_per_picture"] == 1.0
    assert figures["most_uploads_of_one_picture"] == 1
    # 3 classes need a few calls a second, far from Telegram's 30.
    assert figures["regime"] == "below the limit"
    assert figures["needed_counted_calls_per_second"] < 30


def test_the_startup_benchmark_serves_and_stops(document: dict[str, Any]) -> None:
    figures = document["startup"]
    assert figures["users"] == 300 and figures["open_practices"] == 6
    assert 0 < figures["polling_started_s"] <= figures["first_update_served_s"]
    assert figures["every_owed_cue_sent_s"] > 0
    assert figures["rss_settled_mb"] > 0
    assert figures["exit_code"] == 0


def test_the_reminder_benchmark_dispatches_with_and_without_paid_broadcasts(
    document: dict[str, Any],
) -> None:
    figures = document["reminders"]
    assert figures["due"] == 600
    assert figures["select"]["batch"]["limit"] == 45
    assert figures["claims"]["claimed"] == 4 * 45
    off = figures["dispatch"]["without_paid_broadcast"]
    on = figures["dispatch"]["with_paid_broadcast"]
    assert off["allow_paid_broadcast"] is False and on["allow_paid_broadcast"] is True
    for sent in (off, on):
        assert sent["sends"] >= 2 and sent["rate"] > 0 and sent["busiest_second"] >= 1
        # A graceful stop finishes every send it claimed.
        assert sent["claimed"] == sent["sends"]
        assert 0 <= sent["sends_carrying_allow_paid_broadcast"] <= sent["sends"]
    # With the setting off, no send asks for a paid broadcast.
    assert off["sends_carrying_allow_paid_broadcast"] == 0
    fanout = figures["fanout_100k_s_extrapolated"]
    assert fanout["without_paid_broadcast"] == pytest.approx(reminders.FANOUT / off["rate"])
    assert fanout["with_paid_broadcast"] == pytest.approx(reminders.FANOUT / on["rate"])
    assert "allow_paid_broadcast" in figures["paid_broadcast_observed"]


def test_the_emulator_ceiling_benchmark_answers_calls(document: dict[str, Any]) -> None:
    figures = document["emulator_ceiling"]
    assert figures["calls_answered"] > 0 and figures["calls_per_second"] > 0


def test_the_calls_section_agrees_with_the_scenarios(document: dict[str, Any]) -> None:
    calls = document["calls"]
    assert calls["telegram_limit_per_second"] == 30
    assert [(c["bot"], c["counted"]) for c in calls["per_tap"]] == [
        (r["bot"], r["counted_calls_per_tap"]) for r in document["taps"]["runs"]
    ]
    assert [(c["classes"], c["counted"]) for c in calls["per_auto_advanced_cue"]] == [
        (r["classes"], r["counted_calls_per_cue"]) for r in document["timers"]["runs"]
    ]
    busiest = calls["busiest_second_counted"]
    for peak in (*busiest["taps"], *busiest["timers"]):
        assert peak["within_limit"] == (peak["busiest"] <= 30)


def test_the_stop_benchmark_stops_quietly_and_the_restart_sends_what_was_owed(
    document: dict[str, Any],
) -> None:
    [run20] = document["stopping"]["runs"]
    assert run20["classes"] == 20 and run20["cues_before_stop"] > 0
    assert run20["exit_code"] == 0 and run20["lines_above_info"] == 0
    assert run20["owed_sent_after_restart"] == run20["owed_at_stop"]
    assert run20["duplicate_cues"] == 0


def test_the_player_benchmark_serves_its_pages_and_batches_their_heartbeats(
    document: dict[str, Any],
) -> None:
    section = document["player"]
    (run20,) = section["capacity"]
    assert run20["classes"] == 20 and run20["started"] == "seeded"
    # Every page beat and asked for its state in the window, and nothing failed.
    for kind in ("beat", "state"):
        figures = run20["latency"][kind]
        assert figures["calls"] > 0
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert run20["errors"] == 0 and run20["failures"] == {}
    assert run20["requests"] == sum(f["calls"] for f in run20["latency"].values())
    assert run20["requests_per_second"] > 0
    assert run20["paused_by_the_server"] == 0 and run20["pages_off_the_practice"] == {}
    # The worker's own handler times, read inside it, for the same calls.
    assert {"beat", "state"} <= set(run20["handler_in_worker"])
    assert run20["worker_cpu_percent"] > 0 and run20["worker_rss_mb"] > 0
    assert run20["sql_statements_per_second"] > 0
    # Heartbeats are written a batch at a time: one UPDATE per flush, however many beats.
    beats = run20["heartbeats"]
    assert beats["flushes"] >= 1
    assert beats["update_statements"] == beats["flushes"] < beats["beats_answered"]
    assert 0 < beats["rows_updated"] <= 20 * beats["flushes"]
    # Classes in the player send no cue to the chat: no Bot API call in the window.
    assert run20["bot_api_calls"] == 0
    # Each call alone: a heartbeat touches no database at all; a state before the deadline
    # only reads, in single queries (no BEGIN: no snapshot to take); a press writes the
    # practice's row and its step event, and reads the View after.
    costs = section["call_costs"]
    assert costs["beat"]["sql_statements"] == 0 == costs["beat"]["database_thread_calls"]
    assert set(costs["state"]["sql_statements_by_kind"]) == {"SELECT"}
    assert costs["state"]["sql_statements"] >= 1.0
    assert costs["act"]["sql_writes"] == 2.0
    for cost in costs.values():
        assert cost["calls"] == 30 and cost["worker_cpu_ms"] > 0
        assert 0 < cost["p50_ms"] <= cost["p99_ms"]


def test_the_player_benchmark_counts_a_class_in_the_player_and_in_the_chat(
    document: dict[str, Any],
) -> None:
    per_class = document["player"]["calls_per_class"]
    poses = per_class["poses"]
    in_player, in_chat = per_class["player"], per_class["chat"]
    assert in_player["ended_on"] == {"summary": 1}
    # The chat sends every cue (a photo each: the seed class has a picture for every pose);
    # the player sends none, only its note and the closing message.
    assert in_chat["class"]["by_method"].get("sendPhoto", 0) == poses
    assert "sendPhoto" not in in_player["class"]["by_method"]
    assert 1 <= in_player["class"]["counted"] < poses < in_chat["class"]["counted"]
    assert in_player["api_calls"]["state"] >= 1
    ceiling = document["player"]["ceiling"]
    below, at_limit = (
        ceiling["chat_classes_per_bot_below_limit"],
        ceiling["chat_classes_per_bot_at_limit"],
    )
    assert 0 < below <= at_limit < ceiling["player_classes_per_bot_by_telegram"]
