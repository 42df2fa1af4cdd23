"""Docstring parsing: summaries and per-parameter descriptions in Google, reST and NumPy style."""

from __future__ import annotations

from agentrun.tools._docstring import Docstring, parse_docstring


def test_google_style_with_types_continuations_and_later_sections() -> None:
    doc = parse_docstring("""Book a table
    at a restaurant.

    Longer explanation that the model does not need.

    Args:
        name (str): Who the booking is for.
        party_size: How many people,
            including children.
        *extras: ignored.

    Returns:
        The booking id.

    Raises:
        ValueError: when full.
    """)
    assert doc == Docstring(summary="Book a table at a restaurant.", params={
        "name": "Who the booking is for.",
        "party_size": "How many people, including children.",
        "extras": "ignored.",
    })


def test_numpy_style() -> None:
    doc = parse_docstring("""Convert money.

    Parameters
    ----------
    amount : float
        The amount,
        in cents.
    currency
        ISO code.

    Returns
    -------
    float
    """)
    assert doc == Docstring(summary="Convert money.",
                            params={"amount": "The amount, in cents.", "currency": "ISO code."})


def test_a_summary_stops_at_a_section_and_missing_docstrings_are_empty() -> None:
    assert parse_docstring("Do it.\nArgs:\n    x: the x.") == Docstring(
        summary="Do it.", params={"x": "the x."})
    assert parse_docstring(None) == Docstring()
    assert parse_docstring("   ") == Docstring()


def test_rest_sphinx_style_keeps_its_parameter_descriptions() -> None:
    doc = parse_docstring("""Weather forecast
    for a city.

    :param city: City name, e.g. "Paris".
    :param int days: How many days
        ahead (1-7).
    :returns: the forecast.
    :raises ValueError: for an unknown city.
    """)
    assert doc == Docstring(summary="Weather forecast for a city.", params={
        "city": 'City name, e.g. "Paris".', "days": "How many days ahead (1-7)."})


def test_attributes_are_not_parameters() -> None:
    doc = parse_docstring("""Order lookup.

    Args:
        order_id: The order number.

    Attributes:
        cache: not something the model fills in.
    """)
    assert doc.params == {"order_id": "The order number."}
