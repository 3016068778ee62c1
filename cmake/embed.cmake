# Writes the file IN as a C array NAME (NUL-terminated) into OUT: a text the program
# carries, kept in a file of its own so that it stays readable and lintable.
# Usage: cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake: do not edit. */\n"
  "extern const char ${NAME}[];\nconst char ${NAME}[] = {\n${hex}0x00};\n")
