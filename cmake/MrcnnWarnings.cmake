# One warning set for every target of ours. Third-party headers come in as SYSTEM includes.
function(mrcnn_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                               -Wcast-align -Woverloaded-virtual
                               # Designated initialisers name only the fields that differ.
                               -Wno-missing-field-initializers
                               # GCC 12 reports std::string concatenations at -O3 as
                               # overlapping copies (its bug 105651).
                               -Wno-restrict>)
  if(MRCNN_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endfunction()
