"""`wardview doctor` and `wardview --self-test`: checks IT runs from a script on a ward PC.

Qt-free on purpose: the doctor must run where no display is, and the self-test's one Qt check (an offscreen
window) is passed in by the composition root, so this package never imports PySide6.
"""
