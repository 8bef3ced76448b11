"""Does a plain environment value look like a secret? A warning for the client, never a refusal.

Servers accept any string as a value (DataRobot does), but a key pasted into a spec is saved with
the artifact, shown in its ``GET``, diffed and versioned. :func:`looks_secret` lets the panel and
the magics warn before that happens and suggest a credential (``source: "dr-credential"``)
instead. It is pure and cheap, and errs on the side of silence: a warning on ordinary values (a
URL, a model name, a path, a UUID, a commit hash, a number) would teach users to ignore it.

What it recognises, in order (the first reason wins):

1. Well-known key formats anywhere in the value: ``sk-…``/``sk_…`` (OpenAI, Anthropic, Stripe
   style, 20+ characters after the prefix), AWS access key ids (``AKIA``/``ASIA`` + 16), GitHub
   tokens (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), GitLab
   (``glpat-``), Slack (``xox?-``), Hugging Face (``hf_``), Google API keys (``AIza`` + 35),
   JSON Web Tokens, PEM private keys, Slack webhook URLs.
2. A URL with a password in it (``postgres://user:pw@host/db``).
3. A long high-entropy token: a run of at least :data:`MIN_TOKEN_LENGTH` characters of a key
   alphabet (letters, digits, ``-_+/=``) that mixes letters and digits, is not just hex, has
   few separators, is not mostly words (``MyModelCheckpointEpoch10``), and whose character
   entropy is at least :data:`MIN_ENTROPY` bits per character (random base62/base64 has
   ~4.5-5; English-like names and hex stay below). In a URL or a path the runs are read
   between slashes (``…/deployments/65f1…/predictions`` is words and an id); a ``data:`` URI
   and a digest named by its algorithm (``sha384-…``) are random but no secret, and so are
   certificates and public keys (PEM, or SSH's ``ssh-ed25519 AAAA…`` lines).
4. A name that says it holds a secret (its last word is ``TOKEN``, ``SECRET``, ``PASSWORD``,
   ``PASSWD``, ``PASS``, ``APIKEY``, ``CREDENTIALS``, or it ends in ``API_KEY``, ``ACCESS_KEY``,
   ``SECRET_KEY``, ``PRIVATE_KEY``...) with a value of :data:`MIN_NAMED_LENGTH` characters or
   more that is not a number, a boolean, a placeholder (``changeme``, ``<your key>``,
   ``${OTHER_VAR}``), a URL without a password, or a file's path
   (``GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/key.json`` says where a secret is).

The reason returned never contains the value. Every pattern runs in time linear in the value
(a pattern starts only where a run of its characters starts, and never backtracks over an
unbounded run): the local server judges bodies of up to 1 MB on its event loop.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_TOKEN_LENGTH = 32
MIN_ENTROPY = 4.0
"""Bits per character a run must reach to count as a random token."""
MAX_SEPARATOR_SHARE = 0.1
"""A run with more separators (``-_+/=``) than this share reads as words joined, not a key."""
MIN_NAMED_LENGTH = 8
"""A value under a secret-sounding name is flagged from this length (``TOKEN=abc`` is a test)."""

_KNOWN_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"(?<![A-Za-z0-9])sk[-_][A-Za-z0-9_-]{20,}", "looks like a secret API key (sk-…)"),
        (r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", "looks like an AWS key id"),
        (r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}", "looks like a GitHub token"),
        (r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{30,}", "looks like a GitHub token"),
        (r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}", "looks like a GitLab token"),
        (r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}", "looks like a Slack token"),
        (r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}", "looks like a Hugging Face token"),
        (r"(?<![A-Za-z0-9])AIza[A-Za-z0-9_-]{35}", "looks like a Google API key"),
        (
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*",
            "looks like a JSON Web Token",
        ),
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----", "looks like a private key"),
        (
            r"hooks\.slack\.com/services/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]{16,}",
            "is a Slack webhook URL (its path is the secret)",
        ),
    )
)
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]*:[^/\s@]+@")
_TOKEN_RUN = re.compile(rf"[A-Za-z0-9_+/=-]{{{MIN_TOKEN_LENGTH},}}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_PATH_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/|(?:~|\.{1,2})?/")
"""A URL (``https://``, ``runs:/``) or a path: its slashes separate words, not key characters."""
_WORD = re.compile(r"[A-Z]?[a-z]+")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
MIN_WORD_SHARE = 0.7
"""A run this much made of words (``MyModelCheckpointEpoch10``) is a name, not a key: random
base62/base64 stays under it (3 of 90,000 draws reached it)."""
_NOT_RANDOM = re.compile(
    r"data:[\w.+-]+/[\w.+-]+(;[\w.+-]+(=[\w.+-]*)?)*;base64,.*"
    r"|(sha1|sha224|sha256|sha384|sha512|md5)[-:][A-Za-z0-9+/=_-]+",
    re.IGNORECASE | re.DOTALL,
)
"""Values random by nature but no secret: a ``data:`` URI (a picture), a digest named by its
algorithm (``sha384-…`` as in subresource integrity)."""
_PUBLIC_PEM = re.compile(
    r"\s*(?:-----BEGIN ((?:TRUSTED |X509 )?CERTIFICATE|(?:RSA |EC )?PUBLIC KEY|"
    r"CERTIFICATE REQUEST|X509 CRL|PGP PUBLIC KEY BLOCK)-----[A-Za-z0-9+/=:,.\s]*+"
    r"-----END \1-----\s*)+"
)
"""Certificates and public keys in PEM: public by design (a CA bundle, a JWT verification key).
The body's characters exclude ``-``, so the match never backtracks over a block."""
_SSH_PUBLIC = re.compile(
    r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com) AAAA[A-Za-z0-9+/]+={0,3}(?: [^\n]*)?"
)
"""One line of an ``authorized_keys`` file: an SSH public key and its comment."""
_FILE_PATH = re.compile(r"(?:~|\.{1,2})?(?:/[\w.@+-]+){2,}/?|(?:~|\.{1,2})?/[\w@+-]+\.\w{1,5}")
"""Where a secret is kept (``/var/secrets/google/key.json``), not the secret."""
_SEPARATORS = frozenset("-_+/=")
_SECRET_WORDS = frozenset(
    {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "APIKEY", "CREDENTIALS", "CREDENTIAL"}
)
_SECRET_KEYS = frozenset({"API", "ACCESS", "SECRET", "PRIVATE", "SIGNING", "ENCRYPTION", "AUTH"})
"""Words that make a name ending in ``KEY`` a secret's (``API_KEY``, not ``CACHE_KEY``)."""
_NOT_SECRET = re.compile(
    r"[+-]?\d+(\.\d+)?|true|false|yes|no|on|off|none|null"
    r"|change[-_]?me|placeholder|dummy|example|todo|x{3,}|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_]\w*"
    r"|your[-_ ].*",
    re.IGNORECASE,
)
"""Values that are no secret whatever their name: numbers, booleans, placeholders and
references to other variables (``${OTHER}``)."""


def looks_secret(name: str, value: str) -> str | None:
    """Why ``value`` (of the variable ``name``) looks like a secret, or ``None``."""
    for pattern, reason in _KNOWN_FORMATS:
        if pattern.search(value):
            return reason
    if _URL_PASSWORD.search(value):
        return "is a URL with a password in it"
    if _NOT_RANDOM.fullmatch(value.strip()) or _public(value):
        return None
    if any(_random_token(run) for run in _token_runs(value)):
        return "looks like a random token (long, high entropy)"
    if _secret_name(name) and _could_be_secret(value):
        return f"is named like a secret ({name})"
    return None


def entropy(text: str) -> float:
    """Shannon entropy of ``text``'s characters, in bits per character."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def _public(value: str) -> bool:
    """Whether ``value`` is public key material only: PEM certificates or public keys, or SSH
    public keys one a line (a private key in it was recognised before)."""
    if _PUBLIC_PEM.fullmatch(value):
        return True
    lines = [line.strip() for line in value.strip().splitlines()]
    return bool(lines) and all(_SSH_PUBLIC.fullmatch(line) for line in lines)


def _token_runs(value: str) -> list[str]:
    """The runs of key characters in ``value``; in a URL or a path, between its slashes."""
    if _PATH_LIKE.match(value.strip()):
        return [run for part in value.split("/") for run in _TOKEN_RUN.findall(part)]
    return _TOKEN_RUN.findall(value)


def _words_share(run: str) -> float:
    """How much of ``run`` is words: three letters or more with a vowel (camel case
    included)."""
    words = [word for word in _WORD.findall(run) if len(word) >= 3 and _VOWEL.search(word)]
    return sum(len(word) for word in words) / len(run)


def _random_token(run: str) -> bool:
    has_letter = any(c.isalpha() for c in run)
    has_digit = any(c.isdigit() for c in run)
    separators = sum(c in _SEPARATORS for c in run.rstrip("="))
    return (
        has_letter
        and has_digit
        and not _HEX.fullmatch(run)
        and separators <= MAX_SEPARATOR_SHARE * len(run)
        and entropy(run) >= MIN_ENTROPY
        and _words_share(run) < MIN_WORD_SHARE
    )


def _secret_name(name: str) -> bool:
    words = [word for word in re.split(r"[^A-Za-z0-9]+", name.upper()) if word]
    if not words:
        return False
    if words[-1] in _SECRET_WORDS:
        return True
    return words[-1] == "KEY" and len(words) > 1 and words[-2] in _SECRET_KEYS


def _could_be_secret(value: str) -> bool:
    text = value.strip()
    if len(text) < MIN_NAMED_LENGTH or _NOT_SECRET.fullmatch(text) or _FILE_PATH.fullmatch(text):
        return False
    return "://" not in text  # a URL (one with a password was caught already)
