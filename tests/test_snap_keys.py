"""Key loading in every spelling the official SDK accepts ([sdk-header])."""

import re

import pytest
from cryptography.hazmat.primitives import serialization

from conformance.snap import keys, sign, verify


@pytest.fixture(scope="module")
def key():
    return keys.generate_private_key()


def _body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def spellings(key):
    pkcs8 = keys.private_key_pem(key)
    pkcs1 = keys.private_key_pem(key, pkcs1=True)
    return {
        "pkcs8": pkcs8,
        "pkcs1": pkcs1,
        "pkcs8 escaped": pkcs8.replace("\n", "\\n"),
        "pkcs1 escaped": pkcs1.replace("\n", "\\n"),
        "crlf": pkcs8.replace("\n", "\r\n"),
        "one line": re.sub(r"\n", "", pkcs8.replace("-----\n", "----- ").replace("\n-----", " -----")),
        "bare pkcs8": _body(pkcs8),
        "bare pkcs1": _body(pkcs1),
        "quoted": f'"{pkcs8.replace(chr(10), chr(92) + "n")}"',
        "bytes": pkcs8.encode(),
    }


@pytest.mark.parametrize("spelling", ["pkcs8", "pkcs1", "pkcs8 escaped", "pkcs1 escaped", "crlf",
                                      "one line", "bare pkcs8", "bare pkcs1", "quoted", "bytes"])
def test_private_key_spellings_load_to_the_same_key(key, spelling):
    loaded = keys.load_private_key(spellings(key)[spelling])
    assert loaded.private_numbers() == key.private_numbers()
    assert verify(key.public_key(), "m", sign(loaded, "m"))


def test_private_key_file(tmp_path, key):
    path = tmp_path / "merchant.pem"
    path.write_text(keys.private_key_pem(key, pkcs1=True))
    assert keys.load_private_key_file(path).private_numbers() == key.private_numbers()


def test_public_key_spellings(key):
    spki = keys.public_key_pem(key)
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.PKCS1).decode()
    for text in (spki, spki.replace("\n", "\\n"), _body(spki), pkcs1, _body(pkcs1)):
        assert keys.load_public_key(text).public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("bad, fragment", [
    ("", "empty"),
    ("not a key at all!", "Base64"),
    ("QUJD", "PKCS#8 or PKCS#1"),
])
def test_bad_private_keys_say_what_is_wrong(bad, fragment):
    with pytest.raises(keys.KeyFormatError, match=fragment):
        keys.load_private_key(bad)


def test_public_key_loader_rejects_garbage():
    with pytest.raises(keys.KeyFormatError):
        keys.load_public_key("QUJD")


def test_rule_an_encrypted_private_key_is_refused_saying_encrypted_keys_are_not_supported():
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat
    pem = keys.generate_private_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
    with pytest.raises(keys.KeyFormatError) as refused:
        keys.load_private_key(pem)
    assert "encrypted keys are not supported" in str(refused.value), \
        "rule: an encrypted key is named as such, so the merchant knows to export it unencrypted"
    with pytest.raises(keys.KeyFormatError) as garbage:
        keys.load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
    assert "encrypted keys are not supported" not in str(garbage.value), \
        "rule: an unencrypted bad key is not called encrypted"


def test_rule_a_non_rsa_private_key_is_refused_naming_its_type():
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(keys.KeyFormatError) as refused:
        keys.load_private_key(pem)
    assert str(refused.value).endswith("got ECPrivateKey"), "rule: DANA signs with RSA; another key type is named"


def test_rule_a_public_key_file_is_read_from_its_path(tmp_path):
    key = keys.generate_private_key()
    path = tmp_path / "dana.pub.pem"
    path.write_text(keys.public_key_pem(key))
    assert keys.fingerprint(keys.load_public_key_file(path)) == keys.fingerprint(key)
    assert keys.fingerprint(keys.load_public_key_file(str(path))) == keys.fingerprint(key)


def test_rule_a_key_file_that_is_not_text_gets_a_key_error_not_a_traceback():
    with pytest.raises(keys.KeyFormatError):
        keys.load_private_key(b"\xff\xfe\x00 not a key")
    with pytest.raises(keys.KeyFormatError, match="RSA public key"):
        keys.load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")


def test_rule_a_non_rsa_public_key_is_refused_naming_its_type():
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.PEM,
                                                                            PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(keys.KeyFormatError, match="expected an RSA public key, got"):
        keys.load_public_key(pem)


def test_rule_a_private_key_is_written_as_pkcs8_or_on_request_pkcs1():
    key = keys.generate_private_key()
    assert keys.private_key_pem(key).startswith("-----BEGIN PRIVATE KEY-----")
    assert keys.private_key_pem(key, pkcs1=True).startswith("-----BEGIN RSA PRIVATE KEY-----"), \
        "rule: PKCS#1 when asked (the form some SDK samples use)"
