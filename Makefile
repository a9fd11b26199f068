# The two front-door commands: `make demo` and `make test`. Each creates .venv and installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test lint format bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	# torch first, pinned: the CPU wheel on these machines (a looser spec pulls GBs of CUDA packages)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/aiagents demo

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/retrieval_scifact.py
	$(PY) bench/ingestion_scifact.py

clean:
	rm -rf $(VENV) .aiagents
