# A jump past the end: refused at load.
ja +5
exit
