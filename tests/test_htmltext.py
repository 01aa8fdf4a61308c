"""HTML to terminal text: Mastodon shapes, hostile markup, and inputs that must never raise."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoinbox.htmltext import HtmlText, html_to_text, plain_to_text
from ecoinbox.sanitize import safe_url, sanitize

UNSAFE_OUTPUT = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

MASTODON_STATUS = (
    '<p>Hi <span class="h-card" translate="no"><a href="https://mastodon.social/@brand" '
    'class="u-url mention">@<span>brand</span></a></span> the app crashes, see '
    '<a href="https://www.example.com/bug/report/12345" target="_blank" '
    'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://www.</span>'
    '<span class="ellipsis">example.com/bug/report/1234</span><span class="invisible">5</span></a> '
    '<a href="https://mastodon.social/tags/bug" class="mention hashtag" rel="tag">'
    "#<span>bug</span></a>"
    "</p><p>Thanks &amp; regards<br />Alice</p>"
)


def test_mastodon_status() -> None:
    result = html_to_text(MASTODON_STATUS)
    assert result == HtmlText(
        "Hi @brand the app crashes, see example.com/bug/report/1234… #bug\n\nThanks & regards\nAlice",
        ("https://www.example.com/bug/report/12345",),
    )


def test_mastodon_short_link_and_remote_mention() -> None:
    html = (
        '<p><span class="h-card"><a href="https://misskey.example/@alice" class="u-url mention">'
        '@alice@misskey.example</a></span> <a href="https://example.com/x" rel="nofollow">'
        '<span class="invisible">https://</span><span class="">example.com/x</span>'
        '<span class="invisible"></span></a></p>'
    )
    assert html_to_text(html) == HtmlText("@alice@misskey.example example.com/x", ("https://example.com/x",))


def test_entities_that_decode_to_escape_sequences_are_neutralized() -> None:
    html = "<p>a&#x1b;]0;PWNED&#7;b&#x1b;[2Jc\x9b31md&#x202e;e&#x1b;]52;c;aGk=&#x1b;\\f</p>"
    assert html_to_text(html).text == "abcdef"
    # The HTML spec reads &#x80;-&#x9f; as Windows-1252, so no C1 control comes from an entity.
    assert html_to_text("&#x9b;31m").text == "\u203a31m"


def test_removing_hidden_characters_is_flagged_and_ordinary_markup_is_not() -> None:
    decoded = html_to_text("<p>order &#27;[31mFAILED&#27;[0m invoice&#x202e;fdp.exe</p>")
    assert decoded == HtmlText("order FAILED invoicefdp.exe", (), hidden=True)
    assert html_to_text('<p>a&shy;b <img alt="x&#x200b;y"></p>').hidden
    # Markup a browser hides (Mastodon's invisible URL parts, scripts) is not "hidden characters".
    assert not html_to_text(MASTODON_STATUS).hidden
    assert not html_to_text("<p>a<script>\x1b]0;x\x07</script>b</p>").hidden
    assert plain_to_text("r\u200be\u200bfund").hidden and not plain_to_text("refund").hidden


def test_escape_sequence_in_attribute_values_cannot_reach_the_output() -> None:
    html = '<img alt="&#x1b;]0;x&#7;cat"> <a href="https://e.example/&#x1b;[2J">here</a>'
    result = html_to_text(html)
    assert result.text == "[image: cat] here"
    assert result.links == ()


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "/relative",
    ],
)
def test_unsafe_href_is_dropped_and_its_text_kept(href: str) -> None:
    result = html_to_text(f'<p>please <a href="{href}">click here</a> now</p>')
    assert result == HtmlText("please click here now", ())


def test_anchor_text_that_looks_like_another_domain_shows_the_real_target() -> None:
    result = html_to_text('<a href="https://evil.example/login">https://www.paypal.com/</a>')
    assert result == HtmlText(
        "https://www.paypal.com/ (https://evil.example/login)", ("https://evil.example/login",)
    )


def test_ellipsis_cannot_hide_a_different_host() -> None:
    html = '<a href="https://paypal.com.evil.example/x"><span class="ellipsis">paypal.com</span></a>'
    assert html_to_text(html).text == "paypal.com… (https://paypal.com.evil.example/x)"


@pytest.mark.parametrize(
    ("label", "href"),
    [
        ("example.com", "https://example.com/"),
        ("https://EXAMPLE.com/", "https://example.com"),
        ("www.example.com/a", "http://example.com/a/"),
        ("example.com/caf%C3%A9", "https://example.com/café"),
        ("alice@example.com", "mailto:alice@example.com"),
    ],
)
def test_link_whose_text_is_its_target_is_not_repeated(label: str, href: str) -> None:
    assert html_to_text(f'<a href="{href}">{label}</a>').text == label


def test_other_links_show_text_then_target() -> None:
    result = html_to_text('<p>Read <a href="https://blog.example/post">our post</a>.</p>')
    assert result == HtmlText("Read our post (https://blog.example/post).", ("https://blog.example/post",))


def test_mentions_and_hashtags_are_not_links() -> None:
    html = '<a class="mention" href="javascript:evil">alice</a> <a rel="tag" href="https://x.example/tags/t">t</a>'
    assert html_to_text(html) == HtmlText("@alice #t", ())


def test_script_style_and_hidden_elements_are_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<script>alert('x')</script><noscript>enable js</noscript><template>tpl</template>"
        '<p>shown</p><div hidden>secret</div><span class="invisible">inv</span>'
        '<span style="display: none">none</span><iframe>frame</iframe><object>obj</object>'
        "</body></html>"
    )
    assert html_to_text(html).text == "shown"


def test_block_layout() -> None:
    html = (
        "<p>one\n   two</p><p>three<br>four</p>"
        "<ul><li>apple</li><li>pear<ul><li>nashi</li></ul></li></ul>"
        "<blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote>"
        "<pre>  keep\n    this</pre>after"
    )
    assert html_to_text(html).text == (
        "one two\n\nthree\nfour\n\n• apple\n• pear\n  • nashi\n\n"
        "> quoted\n>\n> > deeper\n\n  keep\n    this\n\nafter"
    )


def test_images_show_their_alt_text() -> None:
    html = '<p>look <img src="c.png" alt="a cat"> <img src="pixel.gif"> <img class="emoji" alt=":blob:"></p>'
    assert html_to_text(html).text == "look [image: a cat] :blob:"


def test_blank_line_floods_are_collapsed() -> None:
    assert html_to_text("a" + "<br>" * 50 + "b").text == "a\n\nb"


def test_input_is_cut_at_max_input() -> None:
    assert html_to_text("<p>abcdef</p>", max_input=6).text == "abc"


@pytest.mark.parametrize(
    "html", ["", "<", "<<>>", "</p>", "<!--", "<![CDATA[x", "&#0;&#xd800;&#x110000;", "\x00\ud800"]
)
def test_odd_inputs(html: str) -> None:
    result = html_to_text(html)
    assert isinstance(result, HtmlText)
    assert not UNSAFE_OUTPUT.search(result.text)


TAG_SOUP = [
    "<p>", "</p>", "<br>", "<li>", "<ul>", "</ul>", "<blockquote>", "</blockquote>", "<pre>",
    "</pre>", "<script>", "</script>", "<style>", "<!--", "-->", "<a href='javascript:x'>",
    '<a href="https://e.example/p">', '<a class="mention" href="https://e.example/@u">', "</a>",
    '<span class="invisible">', '<span class="ellipsis">', "</span>", "<img alt='x'>",
    "<div hidden>", "</div>", "<table><tr><td>", "<svg>", "<math>", "<template>", "<select>",
    "&#x1b;", "&#7;", "&#x9b;", "&#x202e;", "&#0;", "&amp;", "&lt;", "<", ">", "&", "\x1b]0;",
    "\x07", "\u200d", "\ufe0f", "\r", "\n", " ", "\t",
]  # fmt: skip
tag_soup = st.lists(st.one_of(st.sampled_from(TAG_SOUP), st.text(max_size=10))).map("".join)


@settings(max_examples=300)
@given(st.one_of(st.text(), tag_soup))
def test_never_raises_and_output_is_sanitized(html: str) -> None:
    result = html_to_text(html)
    assert not UNSAFE_OUTPUT.search(result.text)
    assert sanitize(result.text) == result.text
    assert all(safe_url(link) == link for link in result.links)


def test_one_megabyte_is_fast_enough() -> None:
    paragraph = '<p>Hello <a href="https://e.example/x">world</a> &amp; <b>friends</b></p>\n'
    html = paragraph * (1_000_000 // len(paragraph))
    start = time.perf_counter()
    result = html_to_text(html)
    assert time.perf_counter() - start < 5  # ~0.5 s on a laptop
    assert result.text.startswith("Hello world (https://e.example/x) & friends\n\nHello")
    assert result.links == ("https://e.example/x",)


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<div>" * 200_000 + "deep", id="nested div"),
        pytest.param("<ul><li>" * 100_000, id="nested list"),
        pytest.param("<b><i><u><s>x</p>" * 50_000, id="formatting reconstruction"),
        pytest.param("<blockquote>" * 250 + "x<br>" * 100_000, id="deep quote, many lines"),
    ],
)
def test_pathological_nesting_stays_fast(html: str) -> None:
    # Unbounded, lexbor took 20 s on 500 kB of nested <div>s (its time grows with tags x depth).
    start = time.perf_counter()
    html_to_text(html)
    assert time.perf_counter() - start < 5


def test_plain_text_is_sanitized_and_links_collected() -> None:
    result = plain_to_text(
        "see https://example.com/a_(b), (https://x.example/y). \x1b[2J"
        "javascript:alert(1) https://e.example/\u202eevil"
    )
    assert (
        result.text
        == "see https://example.com/a_(b), (https://x.example/y). javascript:alert(1) https://e.example/evil"
    )
    assert result.links == (
        "https://example.com/a_(b)",
        "https://x.example/y",
        "https://e.example/evil",
    )


@given(st.text())
def test_plain_text_never_raises(text: str) -> None:
    result = plain_to_text(text)
    assert all(safe_url(link) == link for link in result.links)
