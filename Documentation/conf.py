# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for virt_enable's documentation, as tests/docs.sh
# builds it: Debian's sphinx-build with the kernel's own Sphinx extensions
# and kernel-doc script, taken from a kernel source tree.
#
#   VE_KERNEL_SRC   the kernel source tree (Debian's linux-source-6.12);
#                   its Documentation/sphinx/ and scripts/kernel-doc are used
#
# The kernel-doc directives name files relative to the repository root,
# the parent of this directory, as they would name them relative to the
# kernel tree's root.

import os
import sys

ksrc = os.environ.get('VE_KERNEL_SRC')
if not ksrc or not os.path.isfile(os.path.join(ksrc, 'scripts', 'kernel-doc')):
    raise RuntimeError('set VE_KERNEL_SRC to a kernel source tree (tests/docs.sh does)')
sys.path.insert(0, os.path.join(ksrc, 'Documentation', 'sphinx'))

# kerneldoc: the kernel-doc directive; automarkup: cross-references for
# function() and struct/enum names in the text, as in the kernel's docs.
extensions = ['kerneldoc', 'automarkup']

kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# Show kernel-doc's own warnings: tests/docs.sh fails on any output.
kerneldoc_verbosity = 1

project = 'virt_enable'
copyright = 'The virt_enable developers'
author = 'The virt_enable developers'

master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = ['ABI']
primary_domain = 'c'
highlight_language = 'none'
smartquotes_action = 'q'

html_theme = 'alabaster'
html_theme_options = {
    'page_width': '65em',
    'sidebar_width': '15em',
    'font_family': 'serif',
}
