# Root&Route — one entry point for set-up, demo, tests and benchmarks.
# Every target that needs Python depends on `setup`, so each works alone on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
PKGS := $(wildcard src/*_pkg)
# Headless MuJoCo rendering (osmesa fails on these machines).
export MUJOCO_GL := egl
export PYOPENGL_PLATFORM := egl

.PHONY: setup scripts system-packages demo test test-heavy lint format bench constraints clean

setup: $(STAMP) system-packages

# Debian packages, installed when missing and we may (root, apt-get): bubblewrap (the grader's
# sandbox), fonts-nanum (Korean labels in previews and plots), sdformat-sdf (SDFormat's XML schema,
# to check generated Gazebo worlds), chromium (the live view's tests drive it headless).
# Without them grading runs without its filesystem sandbox,
# previews use English labels and the SDF schema check is skipped; each of these says so.
system-packages:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	fc-list :lang=ko 2>/dev/null | grep -q . || missing="$$missing fonts-nanum"; \
	ls /usr/share/sdformat*/1.9/root.xsd >/dev/null 2>&1 || missing="$$missing sdformat-sdf"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
				>/dev/null; } || echo "warning: could not install:$$missing"; \
		else echo "warning: Debian packages missing (not root):$$missing"; fi; \
	fi

$(STAMP): requirements.txt constraints.txt $(foreach p,$(PKGS),$(p)/setup.py $(p)/package.xml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt -c constraints.txt
	$(PIP) install -q --no-deps --no-build-isolation $(foreach p,$(PKGS),-e $(p))
	@$(MAKE) --no-print-directory scripts
	touch $(STAMP)

# pip -e installs each package's console scripts where `ros2 run` looks for them, $(VENV)/lib/<pkg>/
# (setup.cfg, as colcon does). Linked into $(VENV)/bin as well, they are on the PATH of the activated
# venv: `rootroute`, `safety_mux`, ... A name that is already a system command (iproute2's `bridge`)
# is left out rather than hidden; links to scripts that are gone are removed.
scripts:
	@[ ! -d $(VENV)/bin ] || find $(VENV)/bin -xtype l -lname '../lib/*_pkg/*' -delete
	@for script in $(VENV)/lib/*_pkg/*; do \
		[ -f "$$script" ] || continue; \
		name=$${script##*/}; pkg=$${script%/*}; pkg=$${pkg##*/}; \
		if [ -e /usr/bin/$$name ] || [ -e /usr/sbin/$$name ] || [ -e /bin/$$name ]; then \
			echo "note: $$name stays in $(VENV)/lib/$$pkg only (a system command has that name)"; \
		else ln -sfn ../lib/$$pkg/$$name $(VENV)/bin/$$name; fi; \
	done

# The demo plays the teacher: a grading secret of its own (runs/demo.secret, made once) so that
# the hidden variant is graded too. A real class keeps its secret outside the repository.
demo: setup
	test -f runs/demo.secret || $(PY) -m curriculum_pkg.cli secret new runs/demo.secret
	$(PY) -m curriculum_pkg.cli grade src/curriculum_pkg/assignments/plating_stations/reference \
		--assignment plating_stations --secret runs/demo.secret --out runs/demo

test: setup lint
	$(PY) -m pytest -m "not heavy" --durations=25

# The heavy suites (tests marked heavy): a whole class of hostile submissions graded as one batch,
# and open-loop replays on every assignment's hidden variants. CI runs them after `make test`.
test-heavy: setup
	$(PY) -m pytest -m heavy --durations=25

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) benchmarks/bench_sim.py
	$(PY) benchmarks/bench_planning.py
	$(PY) benchmarks/bench_ik.py
	$(PY) benchmarks/bench_perception.py
	$(PY) benchmarks/bench_mux.py
	$(PY) benchmarks/bench_messages.py
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_determinism.py

# Re-pin after editing requirements.txt: resolves in a scratch venv and rewrites constraints.txt.
constraints:
	rm -rf /tmp/rootroute-pin && $(PYTHON) -m venv /tmp/rootroute-pin
	/tmp/rootroute-pin/bin/pip install -q -r requirements.txt
	{ echo "# Every Python dependency of Root&Route, pinned. Regenerate with: make constraints"; \
	  /tmp/rootroute-pin/bin/pip freeze --all | grep -v '^pip=='; } > constraints.txt

clean:
	rm -rf $(VENV) runs .pytest_cache
