"""Domain-name normalisation: IDNA 2008 / UTS 46 both ways, Public Suffix List, bad names."""

from __future__ import annotations

import pytest

from domwatch.names import BadName, Name, known_suffix, normalise, to_ascii


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", Name("example.com", "example.com")),
        ("  Example.COM.  ", Name("example.com", "example.com")),
        ("ääkkönen.fi", Name("xn--kknen-fraa0m.fi", "ääkkönen.fi")),
        ("ÄÄKKÖNEN.FI", Name("xn--kknen-fraa0m.fi", "ääkkönen.fi")),
        ("xn--kknen-fraa0m.fi", Name("xn--kknen-fraa0m.fi", "ääkkönen.fi")),
        ("XN--KKNEN-FRAA0M.FI", Name("xn--kknen-fraa0m.fi", "ääkkönen.fi")),
        ("例え.テスト", Name("xn--r8jz45g.xn--zckzah", "例え.テスト")),
        ("xn--r8jz45g.xn--zckzah", Name("xn--r8jz45g.xn--zckzah", "例え.テスト")),
        ("xn--r8jz45g.テスト", Name("xn--r8jz45g.xn--zckzah", "例え.テスト")),
        ("例え。テスト", Name("xn--r8jz45g.xn--zckzah", "例え.テスト")),  # ideographic full stop
        (
            "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",
            Name("example.com", "example.com"),
        ),  # full-width
        # IDNA 2008 keeps ß (IDNA 2003 would have made it "ss": a different domain).
        ("straße.de", Name("xn--strae-oqa.de", "straße.de")),
        (
            "www.shop.example.co.uk",
            Name("example.co.uk", "example.co.uk", "www.shop.example.co.uk"),
        ),
        ("www.ääkkönen.fi", Name("xn--kknen-fraa0m.fi", "ääkkönen.fi", "www.xn--kknen-fraa0m.fi")),
        (
            "https://www.Example.com:8443/path?q=1#x",
            Name("example.com", "example.com", "www.example.com"),
        ),
        ("http://example.org", Name("example.org", "example.org")),
        # Registrations live under ICANN suffixes; the private section is about cookies.
        ("me.blogspot.com", Name("blogspot.com", "blogspot.com", "me.blogspot.com")),
        ("example.test", Name("example.test", "example.test")),  # unknown TLDs: the lab's
        ("a.b.example", Name("b.example", "b.example", "a.b.example")),
    ],
)
def test_normalise(raw: str, expected: Name) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ääkkönen.fi", "例え.テスト", "www.shop.example.co.uk", "straße.de"]
)
def test_normalise_is_idempotent_through_both_forms(raw: str) -> None:
    name = normalise(raw)
    assert normalise(name.name).name == name.name
    assert normalise(name.display_name).name == name.name
    assert normalise(name.host or name.name) == name


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "(empty)"),
        ("   ", "(empty)"),
        ("exa mple.com", "(space not allowed)"),
        ("exa\tmple.com", "(space not allowed)"),
        ("a_b.example.com", "underscore"),
        ("_dmarc.example.com", "underscore"),
        ("-shop.example.com", "hyphen"),
        ("shop-.example.com", "hyphen"),
        ("ab--cd.com", "hyphens in 3rd and 4th position"),
        ("a..example.com", "empty label"),
        (".example.com", "empty label"),
        ("example.com..", "empty label"),
        ("a" * 64 + ".com", "longer than 63"),
        (".".join(["a" * 63] * 4) + ".com", "too long"),
        ("192.0.2.1", "IP address"),
        ("2001:db8::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("1.2.3", "numeric top-level"),
        ("example.com/path", "looks like a path or URL"),
        ("ops@example.com", "e-mail address"),
        ("example.com:443", "without a port"),
        ("*.example.com", "wildcards"),
        ("xn--abc.com", "'xn--abc' is not a valid IDNA A-label"),
        ("😀.com", "U+1F600"),
        ("https://", "URL without a host name"),
        ("https://exa mple.com/", "space not allowed"),
    ],
)
def test_bad_names(raw: str, reason: str) -> None:
    with pytest.raises(BadName) as info:
        normalise(raw)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message
    assert message.startswith("not a domain name: ")


@pytest.mark.parametrize("raw", ["com", "co.uk", "CO.UK.", "テスト", "localhost"])
def test_public_suffix_alone_is_refused(raw: str) -> None:
    with pytest.raises(BadName, match="is a public suffix, not a registrable domain"):
        normalise(raw)


def test_private_section_suffix_is_a_registrable_domain() -> None:
    # blogspot.com.br is a suffix only in the PSL's private section; com.br is the ICANN one.
    assert normalise("blogspot.com.br") == Name("blogspot.com.br", "blogspot.com.br")


def test_bad_name_is_a_value_error_and_quotes_long_input_briefly() -> None:
    raw = "x y" + "a" * 500
    with pytest.raises(ValueError) as info:
        normalise(raw)
    assert isinstance(info.value, BadName)
    assert len(str(info.value)) < 150


def test_to_ascii_keeps_every_level() -> None:
    assert to_ascii("WHOIS.Ääkkönen.FI.") == "whois.xn--kknen-fraa0m.fi"
    assert to_ascii("whois") == "whois"
    with pytest.raises(BadName):
        to_ascii("who is")


def test_known_suffix() -> None:
    assert known_suffix("example.com")
    assert known_suffix("xn--r8jz45g.jp")
    assert not known_suffix("domains.lst")


@pytest.mark.parametrize(
    ("raw", "name", "host"),
    [
        # registrations of their own at second-level registries: looked up as given
        ("hotel.gb.com", "hotel.gb.com", None),
        ("www.Hotel.GB.com", "hotel.gb.com", "www.hotel.gb.com"),
        ("shop.uk.com", "shop.uk.com", None),
        ("trade.hk.com", "trade.hk.com", None),
        ("mail.asso.eu.org", "asso.eu.org", "mail.asso.eu.org"),
        ("braai.za.net", "braai.za.net", None),
        ("poutine.co.ca", "poutine.co.ca", None),
        ("pierogi.co.pl", "pierogi.co.pl", None),
        ("familie.priv.at", "familie.priv.at", None),
        ("nevsky.spb.ru", "nevsky.spb.ru", None),
        ("tovar.com.ru", "tovar.com.ru", None),
        # the zone itself is a registration under the TLD
        ("gb.com", "gb.com", None),
        # hosting suffixes of the private section are not registries: the owner of
        # me.github.io cannot renew github.io, and github.io is what expires
        ("me.github.io", "github.io", "me.github.io"),
        ("blog.blogspot.com", "blogspot.com", "blog.blogspot.com"),
    ],
)
def test_names_under_second_level_registries_are_kept(
    raw: str, name: str, host: str | None
) -> None:
    normalised = normalise(raw)
    assert (normalised.name, normalised.host) == (name, host)
