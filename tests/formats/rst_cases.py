"""reStructuredText cases read by the tests of both engines (test_rst_engines.py) and by the
engine-specific tests (test_rst.py: docutils, test_rst_fast.py: the fast reader)."""

NESTED = """\
Guide
=====

Intro paragraph.

Install
-------

Run the installer.

On Linux
~~~~~~~~

Use the package manager.

Usage
-----

Call the tool.
"""

NESTED_OVERLINED = """\
=====
Guide
=====

Intro paragraph.

Install
=======

Run the installer.

On Linux
--------

Use the package manager.

Usage
=====

Call the tool.
"""
"""Other adornment styles, the same outline as ``NESTED``: levels follow the order in which
styles first appear (an overlined "=" is a style apart from an underlined one)."""

NESTED_HEADINGS = [
    ("Guide",),
    ("Guide", "Install"),
    ("Guide", "Install", "On Linux"),
    ("Guide", "Usage"),
]

SPHINX = """\
Reference
=========

.. versionadded:: 3.1
   The FOO option appeared.

.. deprecated:: 3.20
   Use the BAR option.

.. cmake:command:: frobnicate(<name>)
   :target: frob

   Frobnicates the named thing.

.. py:function:: spam(eggs)
   :noindex:

   Return spam with eggs.

.. signature:: add_thing(<name> [OPTIONS...])

   Adds a thing.

.. autofunction:: pkg.module.helper

.. seealso::

   The companion guide.

.. note:: Mind the gap.

.. glossary::

   widget
      A small gadget.

.. productionlist::
   expr: term ("+" term)*

.. todo:: Remember the milk.
"""
"""Sphinx and CMake directives that plain docutils does not know."""

SAFETY = """\
Safe
====

.. include:: /etc/passwd

.. raw:: html

   <script>alert('raw-marker')</script>

.. csv-table:: Hosts
   :file: /etc/hostname

.. csv-table:: Remote
   :url: http://127.0.0.1:9/data.csv

.. literalinclude:: /etc/passwd

.. image:: /etc/passwd

.. figure:: /etc/passwd

   The figure caption.

.. index:: secret-index-entry

.. highlight:: cmake

.. contents::

.. meta::
   :keywords: meta-marker

.. |logo| image:: /etc/passwd

.. This comment holds comment-marker text.
   and more comment-marker text.

Visible body.
"""
"""Directives that would read a file, fetch a URL or embed raw markup: none may."""
