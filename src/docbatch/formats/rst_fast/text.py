"""Characters, patterns and small helpers of reStructuredText inline markup.

Used by the fast reader (``rst_fast``). The punctuation classes are docutils'
``punctuation_chars`` (they decide where inline markup may start and end);
backslash escapes are handled the docutils way, as a NUL mark before the escaped
character (``escape``/``unescape``).
"""

from __future__ import annotations

import re

from docbatch.formats.sphinx_text import closing_bracket_start, shown_text

_OPENERS = (
    "\"'(<\\[{\u0f3a\u0f3c\u169b\u2045\u207d\u208d\u2329\u2768\u276a\u276c\u276e\u2770\u2772"
    "\u2774\u27c5\u27e6\u27e8\u27ea\u27ec\u27ee\u2983\u2985\u2987\u2989\u298b\u298d\u298f\u2991"
    "\u2993\u2995\u2997\u29d8\u29da\u29fc\u2e22\u2e24\u2e26\u2e28\u3008\u300a\u300c\u300e\u3010"
    "\u3014\u3016\u3018\u301a\u301d\u301d\ufd3e\ufe17\ufe35\ufe37\ufe39\ufe3b\ufe3d\ufe3f\ufe41"
    "\ufe43\ufe47\ufe59\ufe5b\ufe5d\uff08\uff3b\uff5b\uff5f\uff62\xab\u2018\u201c\u2039\u2e02"
    "\u2e04\u2e09\u2e0c\u2e1c\u2e20\u201a\u201e\xbb\u2019\u201d\u203a\u2e03\u2e05\u2e0a\u2e0d"
    "\u2e1d\u2e21\u201b\u201f"
)
_CLOSERS = (
    "\"')>\\]}\u0f3b\u0f3d\u169c\u2046\u207e\u208e\u232a\u2769\u276b\u276d\u276f\u2771\u2773"
    "\u2775\u27c6\u27e7\u27e9\u27eb\u27ed\u27ef\u2984\u2986\u2988\u298a\u298c\u298e\u2990\u2992"
    "\u2994\u2996\u2998\u29d9\u29db\u29fd\u2e23\u2e25\u2e27\u2e29\u3009\u300b\u300d\u300f\u3011"
    "\u3015\u3017\u3019\u301b\u301e\u301f\ufd3f\ufe18\ufe36\ufe38\ufe3a\ufe3c\ufe3e\ufe40\ufe42"
    "\ufe44\ufe48\ufe5a\ufe5c\ufe5e\uff09\uff3d\uff5d\uff60\uff63\xbb\u2019\u201d\u203a\u2e03"
    "\u2e05\u2e0a\u2e0d\u2e1d\u2e21\u201b\u201f\xab\u2018\u201c\u2039\u2e02\u2e04\u2e09\u2e0c"
    "\u2e1c\u2e20\u201a\u201e"
)
_DELIMITERS = (
    "\\-/:\u058a\xa1\xb7\xbf\u037e\u0387\u055a-\u055f\u0589\u05be\u05c0\u05c3\u05c6\u05f3\u05f4"
    "\u0609\u060a\u060c\u060d\u061b\u061e\u061f\u066a-\u066d\u06d4\u0700-\u070d\u07f7-\u07f9"
    "\u0830-\u083e\u0964\u0965\u0970\u0df4\u0e4f\u0e5a\u0e5b\u0f04-\u0f12\u0f85\u0fd0-\u0fd4"
    "\u104a-\u104f\u10fb\u1361-\u1368\u1400\u166d\u166e\u16eb-\u16ed\u1735\u1736\u17d4-\u17d6"
    "\u17d8-\u17da\u1800-\u180a\u1944\u1945\u19de\u19df\u1a1e\u1a1f\u1aa0-\u1aa6\u1aa8-\u1aad"
    "\u1b5a-\u1b60\u1c3b-\u1c3f\u1c7e\u1c7f\u1cd3\u2010-\u2017\u2020-\u2027\u2030-\u2038\u203b-"
    "\u203e\u2041-\u2043\u2047-\u2051\u2053\u2055-\u205e\u2cf9-\u2cfc\u2cfe\u2cff\u2e00\u2e01"
    "\u2e06-\u2e08\u2e0b\u2e0e-\u2e1b\u2e1e\u2e1f\u2e2a-\u2e2e\u2e30\u2e31\u3001-\u3003\u301c"
    "\u3030\u303d\u30a0\u30fb\ua4fe\ua4ff\ua60d-\ua60f\ua673\ua67e\ua6f2-\ua6f7\ua874-\ua877"
    "\ua8ce\ua8cf\ua8f8-\ua8fa\ua92e\ua92f\ua95f\ua9c1-\ua9cd\ua9de\ua9df\uaa5c-\uaa5f\uaade"
    "\uaadf\uabeb\ufe10-\ufe16\ufe19\ufe30-\ufe32\ufe45\ufe46\ufe49-\ufe4c\ufe50-\ufe52\ufe54-"
    "\ufe58\ufe5f-\ufe61\ufe63\ufe68\ufe6a\ufe6b\uff01-\uff03\uff05-\uff07\uff0a\uff0c-\uff0f"
    "\uff1a\uff1b\uff1f\uff20\uff3c\uff61\uff64\uff65\U00010100\U00010101\U0001039f\U000103d0"
    "\U00010857\U0001091f\U0001093f\U00010a50-\U00010a58\U00010a7f\U00010b39-\U00010b3f"
    "\U000110bb\U000110bc\U000110be-\U000110c1\U00012470-\U00012473"
)
_QUOTE_PAIRS = {
    "\xbb": "\xbb",
    "\u2018": "\u201a",
    "\u2019": "\u2019",
    "\u201a": "\u2018\u2019",
    "\u201c": "\u201e",
    "\u201e": "\u201c\u201d",
    "\u201d": "\u201d",
    "\u203a": "\u203a",
}
_CLOSING_DELIMITERS = r"\\.,;!?"
SCHEMES = frozenset(
    """about acap addbook afp afs aim callto castanet chttp cid crid data dav dict dns eid fax
    feed file finger freenet ftp go gopher gsm-sms h323 h324 hdl hnews http https hydra iioploc
    ilu im imap info ior ipp irc iris.beep iseek jar javascript jdbc ldap lifn livescript lrq
    mailbox mailserver mailto md5 mid mocha modem mtqp mupdate news nfs nntp opaquelocktoken
    phone pop pop3 pres printer prospero rdar res rtsp rvp rwhois rx sdp service shttp sip sips
    smb snews snmp soap.beep soap.beeps ssh t120 tag tcp tel telephone telnet tftp tip tn3270 tv
    urn uuid vemmi videotex view-source wais whodp whois++ x-man-page xmlrpc.beep xmlrpc.beeps
    z39.50r z39.50s""".split()
)
PLAIN_ROLES = frozenset(
    """abbreviation ab acronym ac emphasis literal strong subscript sub superscript sup
    title-reference title t""".split()
)
PEP_URL = "https://peps.python.org/pep-%04d"
RFC_URL = "https://tools.ietf.org/html/rfc%d.html"

_NAME = r"(?:(?!_)\w)+(?:[-._+:](?:(?!_)\w)+)*"
_PREFIX_CLASS = "[\\s" + _OPENERS + _DELIMITERS + "]"
_START = "(?:^|(?<=" + _PREFIX_CLASS + "))"
_END = "(?=$|[\\s\x00" + _CLOSING_DELIMITERS + _DELIMITERS + _CLOSERS + "])"
_BODY = (
    r"(?P<start>\*\*|\*(?!\*)|``|_`|\|(?!\|))(?!\s)"
    r"|(?P<fn>\[(?:[0-9]+|\#(?:" + _NAME + r")?|\*|" + _NAME + r")\]_)" + _END + ""
    r"|(?P<role>:" + _NAME + r":)?(?P<bq>`(?!`))(?!\s)"
)
INITIAL = re.compile(r"(?=[*`_|\[:])" + _START + "(?:" + _BODY + ")")
INITIAL_HERE = re.compile("(?:" + _BODY + ")")
_PREFIX_CHAR = re.compile(_PREFIX_CLASS)
_REF_END = re.compile(r"(_(?<=[^\W_]_)_?)" + _END)
ENDS = {
    "*": re.compile(r"(?=\*)(?<![\s\x00])(\*)" + _END),
    "**": re.compile(r"(?=\*)(?<![\s\x00])(\*\*)" + _END),
    "``": re.compile(r"(?=`)(?<!\s)(``)" + _END),
    "_`": re.compile(r"(?=`)(?<![\s\x00])(`)" + _END),
    "|": re.compile(r"(?=\|)(?<![\s\x00])(\|_{0,2})" + _END),
}
INTERPRETED_END = re.compile(
    r"(?=`)(?<!(?<!\x00)[\s\x00])(`(?P<suffix>(?P<role>:" + _NAME + r":)?(?P<refend>__?)?))" + _END
)
_URIC = r"[-_.!~*'()[\];/:@&=+$,%a-zA-Z0-9\x00]"
_URI_END = r"(?:[_~*/=+a-zA-Z0-9]|" + _URIC + r"(?=[>]))"
_EMAILC = r"[-_!~*'{|}/#?^`&=+$%a-zA-Z0-9\x00]"
_EMAIL = _EMAILC + r"+(?:\." + _EMAILC + r"+)*(?<!\x00)@" + _EMAILC + r"+(?:\." + _EMAILC + "*)*" + _URI_END
URI = re.compile(
    _START
    + r"(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9.+-]*):(?://?)?"
    + (_URIC + "*" + _URI_END)
    + (r"(?:\?" + _URIC + "*" + _URI_END + ")?")
    + (r"(?:\#" + _URIC + "*" + _URI_END + ")?")
    + ("|(?P<email>" + _EMAIL + "))")
    + _END
)
EMAIL_ONLY = re.compile(_EMAIL + "$")
_REFERENCE = re.compile(r"(?:(?P<simple>" + _NAME + r")_|`(?![ ])(?P<phrase>.+?)(?<![\s\x00])`_)$")
_ESCAPE = re.compile(r"\\([\s\S]?)")
HINT = re.compile(r"[*`|_\[\\:@]")
_UNESCAPED_GT = re.compile(r"(?<!\x00)[<>]")
URI_WINDOW = 512
URI_BUDGET = 5000
SUBSTITUTION_DEPTH = 8
SUBSTITUTION_BUDGET = 1 << 20

Link = tuple[str, str]
Substitution = tuple[str, bool, Link | None]


def unescape(text: str) -> str:
    """``text`` (with backslash escapes turned into NUL marks) as docutils shows it."""
    if "\x00" not in text:
        return text
    return text.replace("\x00 ", "").replace("\x00\n", "").replace("\x00", "")


def normalize_name(name: str) -> str:
    """A reference name as docutils compares it: white space collapsed, lower case."""
    return " ".join(name.split()).lower()


def escape(text: str) -> str:
    """``text`` with each backslash escape turned into a NUL mark before the escaped char."""
    return _ESCAPE.sub("\x00\\1", text) if "\\" in text else text


def match_chars(before: str, after: str) -> bool:
    index = _OPENERS.find(before)
    if index < 0:
        return False
    return after == _CLOSERS[index] or after in _QUOTE_PAIRS.get(before, "")


def display_text(text: str) -> str:
    """What Sphinx shows for a role or toctree entry (``Title <target>`` shows ``Title``).

    >>> display_text("Guide <guide-1>"), display_text("~pkg.mod.func"), display_text("$<CONFIG>")
    ('Guide', 'func', '$<CONFIG>')
    """
    return shown_text(text, unescape)


def _is_word(char: str) -> bool:
    return char != "_" and char.isalnum()


def find_ref(s: str, pos: int, seg: int) -> tuple[int, int, int] | None:
    """The next ``name_``/``name__`` reference at or after ``pos``: (start, end, stop)."""
    search_from = pos
    while True:
        found = _REF_END.search(s, search_from)
        if found is None:
            return None
        end = found.start()
        search_from = found.end(1)
        if end - 1 < pos:
            continue
        low = end - 1
        while low > pos:
            char = s[low - 1]
            if _is_word(char):
                low -= 1
            elif char in "-._+:" and low - 2 >= pos and _is_word(s[low - 2]):
                low -= 2
            else:
                break
        start = low
        while True:
            if start == seg or _PREFIX_CHAR.match(s, start - 1):
                return start, end, found.end(1)
            while start < end and _is_word(s[start]):
                start += 1
            if start >= end:
                break
            start += 1


def target_link(block: list[str]) -> Link:
    """The link of a target's reference block: a URI, another target's name or internal."""
    block = [escape(line) for line in block]
    if block and block[-1].strip().endswith("_"):
        match = _REFERENCE.match(" ".join(" ".join(line.strip() for line in block).split()))
        if match:
            return "name", normalize_name(unescape(match.group("simple") or match.group("phrase")))
    joined = " ".join(block).replace("\x00\n", "\x00 ")
    uri = " ".join("".join(unescape(part).split()) for part in joined.split("\x00 "))
    if not uri:
        return "internal", ""
    return "uri", ("mailto:" + uri if EMAIL_ONLY.match(uri) else uri)


def embedded(escaped: str) -> tuple[str, str] | None:
    """Split ``text <alias>`` into its text and alias, or None without an embedded alias."""
    if not escaped.endswith(">") or len(escaped) < 3 or escaped[-2] in " \n\x00":
        return None
    index = escaped.rfind("<", 0, len(escaped) - 1)
    while index > 0 and escaped[index - 1] == "\x00":
        index = escaped.rfind("<", 0, index - 1)
    if index < 0 or (index and escaped[index - 1] not in " \n"):
        return None
    alias = escaped[index + 1 : -1]
    if not alias or alias[0].isspace() or _UNESCAPED_GT.search(alias):
        return None
    return escaped[:index].rstrip(" \n"), alias


def has_title(text: str) -> bool:
    """Whether a role's text gives its own title (``Title <target>``, see ``shown_text``).

    >>> has_title("Guide <guide-1>"), has_title("guide-1"), has_title("CMAKE_<LANG>")
    (True, False, False)
    """
    start = closing_bracket_start(text)
    return start > 0 and text[start - 1].isspace() and bool(text[:start].strip())


__all__ = [
    "EMAIL_ONLY",
    "ENDS",
    "HINT",
    "INITIAL",
    "INITIAL_HERE",
    "INTERPRETED_END",
    "Link",
    "PEP_URL",
    "PLAIN_ROLES",
    "RFC_URL",
    "SCHEMES",
    "SUBSTITUTION_BUDGET",
    "SUBSTITUTION_DEPTH",
    "Substitution",
    "URI",
    "URI_BUDGET",
    "URI_WINDOW",
    "display_text",
    "embedded",
    "escape",
    "find_ref",
    "has_title",
    "match_chars",
    "normalize_name",
    "target_link",
    "unescape",
]
