# Turns the Lua scripts into a C source of NUL-terminated byte arrays, so the
# daemon carries them (script -> const char store_lua_<name>[]).
# Run as: cmake -DOUT=file.c -DLUA_DIR=dir -P embed_lua.cmake
file(GLOB SCRIPTS ${LUA_DIR}/*.lua)
list(SORT SCRIPTS)
set(body "/* Generated from the Lua scripts in signald/lua by embed_lua.cmake. Do not edit. */\n")
foreach(script ${SCRIPTS})
  get_filename_component(name ${script} NAME_WE)
  file(READ ${script} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "const char store_lua_${name}[] = {${bytes}0x00};\n")
endforeach()
file(WRITE ${OUT} "${body}")
