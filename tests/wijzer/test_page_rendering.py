"""Rendering costs: select options escaped once per list, templates read once per process."""

from __future__ import annotations

from pathlib import Path

from wijzer.rendering import make_templates, select_options

OPTIONS = (("0363", "Amsterdam"), ("x<y", 'Tom & "Jerry"'), (7, "zeven"))


def test_options_escaped_and_the_chosen_one_marked() -> None:
    html = str(select_options(OPTIONS, "x<y"))
    assert html.count("<option ") == 3
    assert '<option value="x&lt;y" selected>Tom &amp; &#34;Jerry&#34;</option>' in html
    assert html.count(" selected") == 1


def test_numbers_match_their_text_and_unknown_choices_mark_nothing() -> None:
    assert '<option value="7" selected>zeven</option>' in select_options(OPTIONS, "7")
    assert '<option value="7" selected>' in select_options(OPTIONS, 7)
    assert " selected" not in select_options(OPTIONS, "9999")
    assert " selected" not in select_options(OPTIONS, None)


def test_a_cached_list_is_not_changed_by_an_earlier_choice() -> None:
    select_options(OPTIONS, "0363")
    assert " selected" not in select_options(OPTIONS, "")


def test_the_select_field_macro_renders_the_same_as_before() -> None:
    env = make_templates().env
    template = env.from_string(
        '{% from "macros.html" import select_field %}'
        '{{ select_field("gemeente", "Gemeente", options, "0363", empty_label="Kies") }}'
    )
    html = template.render(options=OPTIONS)
    assert '<option value="">Kies</option>' in html
    assert '<option value="0363" selected>Amsterdam</option>' in html
    assert 'name="gemeente"' in html


def test_templates_are_read_once_unless_asked(tmp_path: Path) -> None:
    from wijzer.app import create_app
    from wijzer.settings import Settings

    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    assert not create_app(Settings(database_url=url)).state.templates.env.auto_reload
    again = create_app(Settings(database_url=url, reload_templates=True))
    assert again.state.templates.env.auto_reload


def test_options_given_as_a_list_or_with_lists_give_the_same_html() -> None:
    as_tuple = select_options(OPTIONS, "7")
    assert select_options(list(OPTIONS), "7") == as_tuple
    assert select_options(tuple(list(pair) for pair in OPTIONS), "7") == as_tuple
