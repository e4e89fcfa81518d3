"""doc/signing.md is precise enough for a second implementation.

sign_reference.py implements the document in Python, sharing no code with
lib/sign; this test reads the test vectors out of doc/signing.md §9 and
recomputes every canonical form, MAC and control value with it. The C++
unit tests (tests/unit/sign_vectors_test.cc) check the same vectors.
"""
import base64
import os
import re

import pytest

import sign_reference as ref

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "signing.md")


def load_vectors():
    text = open(DOC, encoding="utf-8").read()
    vectors = []
    for block in re.findall(r"```vector\n(.*?)```", text, re.S):
        v = {"entry-attribute": []}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "entry-attribute":
                v[key].append(value)
            else:
                v[key] = value
        vectors.append(v)
    return vectors


VECTORS = load_vectors()


def by_name(prefix):
    return next(v for v in VECTORS if v["name"].startswith(prefix))


def request_canon(v, seen=False):
    return ref.canonical_request(
        v["base-seen"] if seen and "base-seen" in v else v["base"],
        int(v["scope"]), int(v["deref"]), int(v["size-limit"]), int(v["time-limit"]),
        v["types-only"] == "true", v["manage-dsa-it"] == "true",
        v["filter-seen"] if seen and "filter-seen" in v else v["filter"],
        v["attributes"].split())


def test_the_document_has_four_vectors():
    assert [v["name"][:2] for v in VECTORS] == ["V1", "V2", "V3", "V4"]


@pytest.mark.parametrize("name", ["V1", "V4"])
def test_request_vectors(name):
    v = by_name(name)
    key = base64.b64decode(v["key-base64"])
    canon = request_canon(v)
    if "canonical-request" in v:
        assert canon.hex() == v["canonical-request"]
    if "canonical-filter" in v:
        assert ref.canonical_filter(v["filter"]).hex() == v["canonical-filter"]
        assert ref.canonical_filter(v["filter-seen"]).hex() == v["canonical-filter"]
        assert request_canon(v, seen=True) == canon
    nonce = bytes.fromhex(v["nonce"])
    data = ref.request_mac_input(v["key-name"], v["algorithm"], int(v["time"]), int(v["fudge"]),
                                 nonce, int(v["hop-count"]), v["recursion"] == "true",
                                 v["server"], canon)
    mac = ref.mac(v["algorithm"], key, data)
    assert mac.hex() == v["mac"]
    control = ref.control_value("request", v["key-name"], v["algorithm"], int(v["time"]),
                                int(v["fudge"]), nonce, int(v["hop-count"]),
                                v["recursion"] == "true", v["server"], mac)
    assert control.hex() == v["control"]


def answer_items(v):
    if not v["entry-attribute"]:
        return []
    attrs = []
    for line in v["entry-attribute"]:
        desc, *values = line.split()
        attrs.append((desc, [bytes.fromhex(x) for x in values]))
    entry = ref.canonical_entry(v["entry-dn"], attrs)
    if "canonical-entry" in v:
        assert entry.hex() == v["canonical-entry"]
    return [("entry", entry)]


@pytest.mark.parametrize("name", ["V2", "V3"])
def test_answer_vectors(name):
    v = by_name(name)
    assert v["request-mac"] == by_name("V1")["mac"]
    key = base64.b64decode(v["key-base64"])
    referrals = v["referrals"].split()
    nonce = bytes.fromhex(v["nonce"])
    data = ref.answer_mac_input(v["key-name"], v["algorithm"], bytes.fromhex(v["request-mac"]),
                                answer_items(v), int(v["result-code"]), referrals,
                                int(v["time"]), int(v["fudge"]), nonce)
    mac = ref.mac(v["algorithm"], key, data)
    assert mac.hex() == v["mac"]
    if "control" in v:
        control = ref.control_value("answer", v["key-name"], v["algorithm"], int(v["time"]),
                                    int(v["fudge"]), nonce, 0, False, "", mac)
        assert control.hex() == v["control"]


def test_an_altered_answer_changes_the_mac():
    v = by_name("V2")
    key = base64.b64decode(v["key-base64"])
    base_args = (v["key-name"], v["algorithm"], bytes.fromhex(v["request-mac"]))
    good = ref.mac(v["algorithm"], key, ref.answer_mac_input(
        *base_args, answer_items(v), 0, [], int(v["time"]), int(v["fudge"]),
        bytes.fromhex(v["nonce"])))
    dropped = ref.mac(v["algorithm"], key, ref.answer_mac_input(
        *base_args, [], 0, [], int(v["time"]), int(v["fudge"]), bytes.fromhex(v["nonce"])))
    code = ref.mac(v["algorithm"], key, ref.answer_mac_input(
        *base_args, answer_items(v), 32, [], int(v["time"]), int(v["fudge"]),
        bytes.fromhex(v["nonce"])))
    assert len({good, dropped, code}) == 3
