"""What a WHOIS answer says in words: a throttle, "no such domain", or a registration state.

Registries say "not registered" in hundreds of ways, and say much the same words in the legal
text of every answer ("failure to locate a record is not indicative of availability"), so the
wording is read with care:

* the phrases registries use for a throttle or for "no such domain" count at the start of a
  line only, after comment marks, the server's own name and error codes are stripped
  ("%% ", ">>> ", "whois.example.nl: ", "%ERROR:101: "), or as the value of a status field
  ("Domain Status: No Object Found", "query_status: 220 Available");
* a wider set of negative words counts anywhere in a line only in the shape a "not found" answer
  has (a short line naming the queried domain, or a short line in a short answer), and only
  when nothing in the answer says the domain is registered (the caller decides that);
* words that mean "registered" in status fields ("active", "connect", "taken") are evidence
  of a registration, as EPP codes are.

Every pattern is anchored or bounded so that it runs in linear time on hostile lines.
"""

from __future__ import annotations

import re

# Comment marks, the server's own name and error codes in front of a message: "% ", "%% ",
# "# ", ">>> ", "-3: ", "% Error: 55000000002 ", "whois.domain-registry.nl: ".
LINE_PREFIX_RE = re.compile(
    r"[%#*>;\-\s]*(?:[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}:\s*)?(?:error\s*:?\s*)?"
    r"(?:-?\d{1,12}\s*[:;]?\s+)?"
)


def phrase_key(line: str) -> str:
    """``line`` in lower case without the comment marks and codes in front of a message."""
    low = line.strip().lower()
    match = LINE_PREFIX_RE.match(low)
    return low[match.end() :] if match else low


# --- throttles ----------------------------------------------------------------------------------
RATE_LIMIT_STARTS: tuple[str, ...] = (
    "your connection limit exceeded",  # Verisign, CZ.NIC
    "whois limit exceeded",  # PIR
    "query rate limit exceeded",  # registro.br and others
    "maximum number of requests per",  # SIDN, after its host name: "...per minute exceeded"
    "maximum queries per",  # DNS Belgium (older wording): "Maximum queries per hour reached"
    "too many requests",  # AFNIC "%% Too many requests..."
    "too may requests",  # THNIC, misspelt: "% Too may requests."
    "too many queries",
    "too many connections",  # Punktum dk "# Too many connections."
    "queried interval is too short",  # CNNIC
    "maximum query rate reached",  # DNS-LU
    "excessive querying,",  # DNS Belgium, EURid: "Excessive querying, grace period of 300 s"
    "request limit exceeded",  # NASK .pl
    "number of allowed queries exceeded",
    "you have exceeded",  # "...your quota", "...the query limit"
    "you exceeded the maximum",  # Worldsite .ws: "You exceeded the maximum allowable number..."
    "exceeded the maximum allowable number of whois",  # Nominet (legacy wording)
    "the whois query quota for",  # Nominet: "...for 192.0.2.1 has been exceeded"
    "rate limit exceeded",
    "maximum daily connection limit reached",  # Tucows
    "quota exceeded",
    "lookup quota exceeded",
    "look up quota exceeded",  # .ms/.gs
    "query limitation is",  # MYNIC
    "query rate of",  # CentralNic: "Query rate of <n> ... exceeded"
    "limit exceeded",
    "server too busy",
    "blacklisted: you have exceeded",
    "connection refused; access control limit reached",  # DENIC after its error code
    "access control limit reached",
    "query limit exceeded",
    "query quota exceeded",
    "please maintain at least",  # HKIRC: "...10-second time before starting another enquiry"
    "please go away for",  # ZACR: "Please go away for 13 Seconds"
    "request denied",  # DNC .nz answers "440 Request Denied" past its quota
    "still in grace period",  # EURid: "-1: Still in grace period, wait 600 seconds"
    "service temporarily unavailable",  # NIC.it
)
# Throttle wording with a number in it, or at the end of a short line: SIDN "only 1 request
# per second allowed", Red Cientifica Peruana "Looup quota exceeded."
_THROTTLE_START_RE = re.compile(
    r"only\s+\d{1,6}\s+(?:requests?|quer(?:y|ies))\s+per\b"
    r"|.{0,60}\b(?:quota|limit)\s+(?:exceeded|reached)[.!]?$"
)

# A status field whose value is a refusal: DNC "query_status: 440 Request Denied".
_THROTTLE_VALUE_RE = re.compile(
    r"(?:\d{3}\s+)?(?:request\s+denied|rate\s+limit(?:ed)?|too\s+many\s+(?:requests|queries)"
    r"|quota\s+exceeded|limit\s+exceeded)\b"
)

# A short answer that is a refusal: "WHOIS lookup for x.ga can temporarily not be answered.
# Please try again.", SWITCH's "Requests of this client are not permitted", CoCCA's "Server
# can't process your request.", "% Error: service unavailable". Nothing about the domain can be
# read from one; like a throttle it is retried and then reported as such, never as an answer.
_THROTTLE_ANYWHERE_RE = re.compile(
    r"\b(?:try\s+again|temporarily|too\s+many|exceeded|slow\s+down|please\s+wait"
    r"|before\s+(?:starting|sending|making)\s+another|rate\s+limit|limit\s+(?:reached|exceeded)"
    r"|request\s+denied|access\s+denied|not\s+permitted|can'?t\s+process|cannot\s+process"
    r"|(?:service|server)\s+(?:is\s+)?(?:temporarily\s+)?(?:unavailable|busy))\b"
)


def is_throttle(key: str) -> bool:
    """A throttle reply's wording at the start of a (prefix-stripped, lower-case) line."""
    return key.startswith(RATE_LIMIT_STARTS) or _THROTTLE_START_RE.match(key) is not None


def is_throttle_value(value: str) -> bool:
    """A status field's value that is a refusal ("440 Request Denied")."""
    return _THROTTLE_VALUE_RE.match(value.strip().lower()) is not None


def mentions_throttle(line: str) -> bool:
    """Words of a temporary refusal anywhere in a line (for short answers only)."""
    return _THROTTLE_ANYWHERE_RE.search(line.lower()) is not None


# --- "no such domain" ---------------------------------------------------------------------------
# Registries' own wording, matched at the start of a prefix-stripped, lower-case line. A name is
# "\S{1,260}" or "[^\s.]{0,260}\.\S{1,260}" (a dotted token): bounded, and without the nested
# repetition that backtracks.
_NAME = r"[^\s.]{0,260}\.\S{1,260}"
NOT_FOUND_RE = re.compile(
    rf"""(?:
        no\ match(?:es)?\b                      # Verisign, Nominet, registro.br, JPRS, Norid
      | {_NAME}\ (?:-\ )?no\ match\b            # DNS.PT "x.pt - No Match", "x.pt no match"
      | no\ found\.?$                           # TWNIC
      | nincs\ talalat\b | nincs\ találat\b      # nic.hu: "Nincs talalat / No match"
      | not\ found:\ \S                          # CIRA: "Not found: x.ca"
      | not\ found(?:\.{{1,3}}|!)?$             # PIR/Identity Digital (old), AFNIC, .dm/.gd/.vg
      | the\ requested\ domain\ was\ not\ found  # KISA .kr (English part)
      | 상기\ 도메인이름은\ 등록되어\ 있지\ 않습니다  # KISA .kr (Korean part)
      | query_status:\s*220\b                   # DNC .nz: "query_status: 220 Available"
      # DNC .nz, for a name under no second level it manages ("x.co.nz.nz", "x.ac.nz" once):
      # "query_status: 510 Domain is not managed by this register".
      | query_status:\s*510\b
      | (?:the\ )?domain\ is\ not\ managed\ by\ this\ regist(?:er|ry)\b
      | invalid\ query\ or\ domain\ name\ not\ known  # Dot TK and the Freenom ccTLDs
      | el\ dominio\ no\ se\ encuentra\ registrado  # NIC Argentina
      | el\ dominio\ no\ existe\b                 # NIC Costa Rica, NIC Venezuela
      | \S{{1,260}}:\ no\ existe\b               # NIC Chile "x.cl: no existe"
      | no_se_encontro_el_objeto                 # NIC Mexico "No_Se_Encontro_El_Objeto/..."
      | no\ matching\ objects?\b                 # IEDR (older), .cat
      | no\ matching\ record\.?$                # CNNIC
      | (?:the\ )?(?:domain|object)(?:\ name)?(?:\ \S{{1,260}})?\ (?:is\ |was\ |has\ )?not
        \ (?:been\ )?(?:registered|registred|found)\b  # SWITCH, .ai, .pr, .fj, .im, RNIDS
      | (?:the\ )?(?:domain|object)(?:\ name)?(?:\ \S{{1,260}})?\ does\ not\ exist\b  # .bg, .by
      | not\ registered\b                        # IEDR "Not Registered - The domain you..."
      | no\ data\ was\ found\b                   # ISOC-IL
      | data\ not\ found\b                       # .kg
      | domain\ not\ found\b                     # Identity Digital, Traficom, EIS, CentralNic
      | no\ data\ found\.?$                     # GoDaddy Registry (.us, .co, .biz)
      | no\ entries\ found\b                    # TCI, ISNIC, Punktum, AFNIC, RIPE-style
      | the\ queried\ object\ does\ not\ exist  # many ICANN-style registries
      | no\ object\ found\b                      # CoCCA, JWhoisServer ("NO OBJECT FOUND!")
      | this\ domain\ name\ has\ not\ been\ registered  # Nominet
      | status:\s*(?:free|available)\b          # DENIC, EURid, DNS Belgium, NIC.it, DOMREG
      | available(?::\s*yes)?\.?$               # CentralNic new gTLDs "Available", UDR
      | domain\ "[^"]{{1,260}}"\ not\ found\.?$ # IIS .se/.nu
      | (?:there\ is\ )?no\ information\ available\ (?:about|on)\ (?:the\ )?domain  # NASK, .es
      | error:101:\ no\ entries\ found          # CZ.NIC (FRED)
      | {_NAME}\ is\ free\.?$                   # SIDN
      | we\ do\ not\ have\ an\ entry\ in\ our\ database\ matching\ your\ query  # SWITCH
      | nothing\ found\b                         # nic.at; KazNIC "Nothing found for this query."
      | no\ such\ domain\b                       # ZA Central Registry's za.net, za.org
      | domain\ name\ not\ known\b
      | (?:the\ )?domain\ has\ not\ been\ registered\b
      | (?:domain\ )?{_NAME}\ is\ available\b   # CIRA co.ca, .tm, Uniregistry
      | domain\ is\ available\b                 # co.ca
      | not\ available\ for\ (?:second\ level\ )?registration  # Verisign .name, reserved
      | reserved\ (?:by|name)\b                  # QDR "Reserved by QDR"
      | (?:second\ level\ )?domain\ name\ is\ reserved\b
      | this\ domain\ is\ not\ available\ in\ our\ whois\ database
      | key\ not\ found\b                        # eu.org
      | (?:unfortunately,\ )?no\ results?\ (?:were\ )?found  # co.pl
      | no\ (?:domain\ )?records?\ (?:were\ )?found  # dotCoop
      | this\ query\ returned\ 0\ objects        # IANA (the .int registry), RIPE-style
      # NIC Bolivia answers a name it does not hold with "whois.nic.bo solo acepta consultas
      # con dominios .bo" ("only takes queries for .bo domains"): the only answer three
      # public test suites captured for unregistered .bo names; its registered names get data.
      | (?:{_NAME}\ )?solo\ acepta\ consultas\ con\ dominios\b
    )""",
    re.VERBOSE,
)

# A status field's value that says the name is free, or cannot be had: "No Object Found",
# "220 Available", "AVAILABLE (No match for domain "x")", "Not Registered", "UNASSIGNABLE".
_NOT_FOUND_VALUE_RE = re.compile(
    r"(?:\d{3}\s+)?(?:free|available|not\s+registered|no\s+object\s+found|not\s+found"
    r"|no\s+match|unregistered|does\s+not\s+exist|not\s+exist)[.!]?(?:\s*\(.{0,300}\))?\s*"
    r"|prohibited\s+string\b.{0,200}"  # CoCCA: "Prohibited String - Object Cannot Be Registered"
    # a name the registry will not assign at all: NIC.it "UNASSIGNABLE", DENIC "invalid",
    # DNS Belgium "NOT ALLOWED"
    r"|unassignable|invalid|not\s+allowed"
)

# Negative words of a "not found" answer, anywhere in a line: used only in the shape of one.
_NEGATIVE_ANYWHERE_RE = re.compile(
    r"not\s+found\b"  # no word boundary in front: .sn glues it to the name, "exampleNOT FOUND"
    r"|\b(?:not\s+registered|not\s+registred|no\s+match(?:es)?|no\s+such"
    r"|does\s+not\s+exist|doesn't\s+exist|not\s+exist|no\s+entr(?:y|ies)|no\s+records?"
    r"|no\s+data|no\s+objects?|nothing\s+found|is\s+available|is\s+free"
    r"|available\s+for\s+(?:registration|purchase)|not\s+been\s+registered|unregistered"
    r"|no\s+existe|no\s+encontrad[oa]|not\s+in\s+(?:the\s+|our\s+)?(?:whois\s+)?database"
    # The registry refusing the name itself: TRABIS "Invalid input", Åland's "Invalid domain
    # name". domwatch sends only names that pass IDNA 2008 and the Public Suffix List, in the
    # server's own query form, so the refusal is about the name: it cannot be registered there.
    # "Invalid query" or "invalid characters in query string" are about the query: not read so.
    r"|invalid\s+(?:input|domain(?:\s+name)?))\b"
)

# "...is not valid" is a refusal of the name only in a sentence that names it (the .vu server:
# "The domain x.vu is not valid!"); "your access is not valid" is no answer about a domain.
_NAME_REFUSED_RE = re.compile(r"\bis\s+(?:not\s+(?:a\s+)?valid|invalid)\b")

# Status words that mean "registered" besides the EPP codes: DENIC "connect", .aq "taken",
# registro.br "published", .gov "ACTIVE", DNS Belgium "NOT AVAILABLE", DNC "200 Active".
_REGISTERED_VALUE_RE = re.compile(
    r"(?:\d{3}\s+)?(?:active|registered|taken|connect(?:ed)?|published|delegated"
    r"|not\s+available|in\s+zone|paid|granted|assigned|in\s+use|verified|locked|hold"
    r"|transfer\s+prohibited|ok)\b"
)


def is_not_found(key: str) -> bool:
    """A registry's "no such domain" wording at the start of a prefix-stripped line."""
    return NOT_FOUND_RE.match(key) is not None


def is_not_found_value(value: str) -> bool:
    """A status field's value that says the name is not registered."""
    return _NOT_FOUND_VALUE_RE.fullmatch(value.strip().lower()) is not None


def is_registered_value(value: str) -> bool:
    """A status field's value that says the name is registered ("active", "connect")."""
    text = value.strip().lower()
    return _REGISTERED_VALUE_RE.match(text) is not None and not is_not_found_value(text)


def negative_words(low: str, names_domain: bool = False) -> bool:
    """Whether the lower-case line ``low`` has the negative words of a "not found" answer
    anywhere in it; ``names_domain``: it names the queried domain, so "...is not valid"
    counts too."""
    if _NEGATIVE_ANYWHERE_RE.search(low) is not None:
        return True
    return names_domain and _NAME_REFUSED_RE.search(low) is not None
