"""The optional hospital LLM rewrites the summary only when the rewrite says nothing the fields do not."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ai.scribe.engine.extract import extract
from ai.scribe.engine.llm import TEMPLATE_MODEL, LlmConfig, check_rewrite, summarise_with_llm
from ai.scribe.engine.summary import summarise
from ai.scribe.engine.types import Transcript
from tests.ai.scribe.test_extract import CONSULTATION
from tests.ai.scribe.test_extract_support import vocabulary_without_encoder

GOOD = (
    "The patient presents with chest pain and cough for three days and denies fever. Past history includes "
    "hypertension, and the mother had diabetes mellitus. Medications are Metformin 500 mg twice daily and Paracetamol "
    "as needed; allergic to penicillin (urticaria). Vital signs: blood pressure 140/90 mmHg, heart rate 88/min, "
    "temperature 101.2°F. Assessment is pneumonia (J18.9), possibly a viral infection. Plan: start Amoxicillin 500 mg "
    "oral three times daily, chest X-ray and follow-up in two weeks."
)


class _Endpoint(BaseHTTPRequestHandler):
    reply = GOOD
    status = 200
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - the http.server interface
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    _Endpoint.reply, _Endpoint.status, _Endpoint.requests = GOOD, 200, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def fields():
    return extract(Transcript.from_turns(CONSULTATION), vocabulary=vocabulary_without_encoder())


def test_off_by_default_gives_the_template(fields, settings):
    settings.SCRIBE_LLM_URL = ""

    result = summarise_with_llm(fields)

    assert (result.summary, result.model, result.accepted, result.reason) == (
        summarise(fields),
        TEMPLATE_MODEL,
        False,
        "off",
    )


def test_a_faithful_rewrite_is_accepted(fields, endpoint):
    config = LlmConfig(url=endpoint, model="qwen-hospital", api_key="secret", timeout=5)

    result = summarise_with_llm(fields, config=config, vocabulary=vocabulary_without_encoder())

    assert result.accepted, result.reason
    assert result.summary == GOOD
    assert result.model == "llm:qwen-hospital"
    [request] = _Endpoint.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer secret"
    assert request["body"]["model"] == "qwen-hospital"
    assert request["body"]["messages"][-1]["content"] == summarise(fields)


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        (GOOD.replace("500 mg twice", "850 mg twice"), "new number 850"),
        (GOOD + " Start aspirin daily.", "new clinical term 'aspirin'"),
        (GOOD + " Likely sepsis.", "new clinical term 'sepsis'"),
        (GOOD.replace("and denies fever", "and reports fever"), "denied finding stated as present: 'fever'"),
        ("", "error: ValueError"),
    ],
)
def test_a_rewrite_that_adds_or_flips_facts_falls_back_to_the_template(fields, endpoint, rewrite, reason):
    _Endpoint.reply = rewrite

    result = summarise_with_llm(
        fields, config=LlmConfig(url=endpoint, timeout=5), vocabulary=vocabulary_without_encoder()
    )

    assert not result.accepted
    assert result.reason == reason
    assert result.summary == summarise(fields)
    assert result.model == TEMPLATE_MODEL


def test_an_unreachable_or_failing_endpoint_falls_back(fields, endpoint):
    _Endpoint.status = 500
    failing = summarise_with_llm(fields, config=LlmConfig(url=endpoint, timeout=5))
    unreachable = summarise_with_llm(fields, config=LlmConfig(url="http://127.0.0.1:9/v1", timeout=2))

    assert (failing.accepted, failing.reason) == (False, "error: HTTPError")
    assert not unreachable.accepted
    assert unreachable.reason.startswith("error:")
    assert unreachable.summary == summarise(fields)


def test_a_chinese_rewrite_is_held_to_the_same_rules():
    zh = extract(
        Transcript.from_turns(
            [("patient", "我咳嗽三天了，没有发烧。"), ("doctor", "体温36.8度。考虑是急性支气管炎。")], language="zh"
        ),
        vocabulary=vocabulary_without_encoder(),
    )
    template = summarise(zh, language="zh")
    vocabulary = vocabulary_without_encoder()

    assert (
        check_rewrite(
            "患者咳嗽三天，否认发热，体温36.8°C，考虑急性支气管炎。", zh, template, language="zh", vocabulary=vocabulary
        )
        == ""
    )
    assert check_rewrite(
        "患者咳嗽三天，发热，体温36.8°C。", zh, template, language="zh", vocabulary=vocabulary
    ).startswith("denied")
    assert (
        check_rewrite("患者咳嗽三天，考虑肺炎。", zh, template, language="zh", vocabulary=vocabulary)
        == "new clinical term '肺炎'"
    )
