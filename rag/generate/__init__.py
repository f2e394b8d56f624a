"""Answers written by the user's own model, every sentence checked against the sentences it cites.

Optional (`answer.generator: llm`), beside the extractive answer, never instead of its checks.
The model is any OpenAI-compatible server the user runs (Ollama, llama.cpp's llama-server, vLLM,
LM Studio) at `llm.base_url`; nothing is contacted when that is empty, and nothing but it ever.

Use, from the Engine (the layers above stay thin)::

    from rag.generate import generate, generate_answer, Finished, SentenceReady, GeneratorUnavailable

    answer = engine.ask(question, history=history)              # the extractive answer, as today
    generated = generate_answer(question, answer, settings, embed=engine.embedder.embed,
                                article_text=lambda doc_id: engine.document(doc_id).text,
                                history=history)                # -> Generated
    payload = answer.to_json() | {"generated": generated.to_json()}

    # streaming (chat, SSE): each sentence once it is complete and verified, then the result
    generation = generate(question, answer, settings, embed, article_text, history)
    for event in generation:                                   # generation.close() cancels,
        if isinstance(event, SentenceReady):                   # from any thread
            show(event.sentence.shown)                         # () for a dropped sentence
        elif isinstance(event, Finished) and event.generated.fallback:
            show_extractive(answer, note=event.generated.fallback)

API:

- `generate(question, answer, settings, embed, article_text=None, history=(), earlier_answers=(),
  thresholds=Thresholds(), evidence_answers=False) -> Generation`: an iterator of events,
  `SentenceReady(index, sentence)` as each written sentence is complete and verified, then one
  `Finished(generated)`. `Generation.close()` (any thread, also `with generate(...) as g:`)
  closes the HTTP stream, so the server stops; a new question should close the one in flight.
  `embed(texts) -> np.ndarray` gives unit vectors (the Engine's embedder); `article_text(doc_id)`
  returns an article's text (to check the evidence offsets; None to trust the citations);
  `history` the chat's earlier questions, oldest first, `earlier_answers` what was answered.
- `generate_answer(...)` the same arguments, run to the end: `Generated`.
- `Generated(model, sentences, fallback, outcome, seconds_to_first, seconds, ...)`; `to_json()` is
  the "generated" object: {"model", "sentences": [{"text", "citations": [rank...], "evidence":
  [{"rank", "start", "end"}], "verified", "shown_as": "written"|"evidence"|"dropped", "reason"}],
  "fallback"}. Evidence spans are offsets into the cited article's text (like citation.start/end).
  `generated.shown` is the list of sentences to show (empty when the extractive answer stands).
  `outcome` says which case it is: written, declined, unverified, fault, skipped, cancelled.
- `GeneratorUnavailable`: a server fault as one line naming the server and what to do (server
  down, wrong URL, refused key, unknown model, timeout, context overflow, a reply not in the asked
  form). `generate` never raises it: it becomes `Generated.fallback` with outcome "fault".
- `check_sentence`, `check_pairs`, `Checks`, `Thresholds` (rag.generate.verify) and
  `choose_thresholds` (rag.generate.tune): the verifier alone, over labelled pairs.

Rules:

- The extractive answer abstained (or there is no passage, or no server): the model is not asked.
- The model declines ("NOT ANSWERED", or `answerable: false`): the extractive answer is shown and
  `fallback` says the model found no answer.
- Each written sentence is shown as written only when it passes every check of
  rag.generate.verify (citations, names and numbers, word coverage, similarity, a stated cause);
  otherwise its evidence sentences are shown verbatim in its place, or it is dropped when it
  cited nothing valid (or its evidence is already shown). The stream stops after 4 sentences
  shown or 6 read.
- Nothing shown as written: the extractive answer stands, with one line saying why (with
  `evidence_answers=True`, an answer made only of evidence sentences stands instead). Until a
  sentence is shown as written, the stream holds the others back, so nothing shown is withdrawn
  except on a fault or a decline after it.
- A fault at any point: the extractive answer, and the fault's line as `fallback`.

Modules: prompt (numbered sentences S<rank>.<n>, the fixed wording), client (the streamed HTTP
request, faults as lines), citations (reading the reply), verify (the checks), run (the rules
above), result (the records), tune (thresholds from labelled pairs), models (GGUF files for
the tests and the benchmark: never used at run time).
"""

from rag.generate.client import GeneratorUnavailable
from rag.generate.result import EvidenceSpan, Finished, Generated, GeneratedSentence, SentenceReady
from rag.generate.run import Generation, generate, generate_answer
from rag.generate.verify import Checks, Thresholds, check_pairs, check_sentence

__all__ = ["Checks", "EvidenceSpan", "Finished", "Generated", "GeneratedSentence", "Generation",
           "GeneratorUnavailable", "SentenceReady", "Thresholds", "check_pairs", "check_sentence",
           "generate", "generate_answer"]
