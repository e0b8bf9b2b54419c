VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: postgres nginx speech poppler run playground test stress-test browser lint format check-sequences bench soak clean

# pytest-xdist workers. Most tests wait on sockets and subprocesses rather than compute, so
# four keep two cores busy; each worker has its own PostgreSQL server and free ports.
TEST_WORKERS ?= 4
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/yogabot run

playground: $(STAMP)
	$(VENV)/bin/yogabot playground

test: $(STAMP) browser postgres nginx speech poppler
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# mypy beside `sequences check`, which speaks every step into .cache/voice (about a
	@# minute on a fresh clone, seconds after): both must pass.
	$(VENV)/bin/mypy & mypy=$$!; \
		$(VENV)/bin/yogabot sequences check; check=$$?; \
		wait $$mypy && exit $$check
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The flake hunt (tests/stress.py): the whole suite RUNS times (default 10), in a shuffled
# order each run, every other run with every core kept busy beside it. A line per run with
# its seed; the logs stay in the folder it names. STRESS_ARGS go to pytest.
RUNS ?= 10
stress-test: $(STAMP) browser postgres nginx speech poppler
	$(PY) -m tests.stress --runs $(RUNS) --workers $(TEST_WORKERS) -- $(STRESS_ARGS)

# $(call debian_package,TARGET,PRESENT-TEST,PACKAGE,WITHOUT-IT): install Debian's PACKAGE
# unless PRESENT-TEST (a shell test) holds; where it cannot be installed (not root, no
# apt-get), say what happens without it.
define debian_package
	@if $(2); then \
		echo "$(1): $(3) is installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "$(1): installing $(3) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(3) >/dev/null; \
	else \
		echo "$(1): $(3) is missing and not installable here (needs root and apt-get);" \
			"$(4)"; \
	fi
endef

# The playground's browser test drives Debian's Chromium (Playwright's own download cannot
# reach its CDN here), and Debian's colour emoji font draws the bot's 🌿 and 🙏 (without
# it they are empty boxes). Installed when possible; otherwise the tests skip and say why.
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	$(call debian_package,browser,command -v chromium >/dev/null 2>&1,chromium,the browser test will be skipped)
	$(call debian_package,browser,[ -f $(EMOJI_FONT) ],fonts-noto-color-emoji,the emoji test will be skipped)

# Every store, service and story test also runs on PostgreSQL: a throwaway cluster the
# tests start themselves (tests/harness/postgres.py) from Debian's server package, installed here
# when missing; without it the PostgreSQL half of the suite fails in CI and skips elsewhere.
postgres:
	$(call debian_package,postgres,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1,postgresql,the PostgreSQL tests will be skipped)

# The two-worker test (tests/processes/test_workers.py) runs nginx with docs/nginx/webhook.conf in
# front of the workers; installed here when missing (without it, under CI=true, it fails).
nginx:
	$(call debian_package,nginx,command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ],nginx,the two-worker test uses its own balancer instead)

# The spoken cues' fallback voice (bot/voice.py): espeak-ng speaks when piper is missing;
# the tests exercise it (tests/rules/test_voice.py), skipping and saying why without it.
speech:
	$(call debian_package,speech,command -v espeak-ng >/dev/null 2>&1,espeak-ng,the fallback voice test will be skipped)

# The clinician report's tests (tests/rules/test_report_pdf.py) read the page back as a
# physiotherapist's PDF viewer would: its text with pdftotext, its page count with pdfinfo,
# the page as an image with pdftoppm, all from Debian's poppler-utils; without them the
# tests skip and say why (and fail under CI=true).
poppler:
	$(call debian_package,poppler,command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1,poppler-utils,the report's read-back tests will be skipped)

# Benchmarks (bench/README.md, BENCHMARKS.md): bench/run.py runs every scenario in turn
# (taps against the bare framework, timer precision, start-up, a stop at any load, the
# player's classes per worker, reminders, the emulator's ceiling) and writes one
# bench/results.json; a full run, about 30 minutes on 2 cores, also rewrites the reminders
# section of bench/REPORT.md. QUICK=1: smaller sizes, about 3 minutes, REPORT.md untouched.
# Not part of `make test`, which runs them once on a tiny load (tests/processes/test_bench.py).
bench: $(STAMP)
	$(PY) bench/run.py $(if $(QUICK),--quick)

# The crash test (tests/processes/test_crash.py) for 20 classes in a row, each with its own seed;
# not part of `make test`, which runs it for one class. CRASH_SEED=<n> replays a run.
soak: $(STAMP)
	SOAK_CLASSES=20 $(PY) -m pytest -q tests/processes/test_crash.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache
