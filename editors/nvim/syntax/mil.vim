" Syntax colouring for MIL text; the language server adds semantic tokens where the client asks.
if exists("b:current_syntax")
  finish
endif
syntax keyword milKeyword program func
syntax keyword milType tensor state list tuple dict tensor_buffer
syntax keyword milDtype fp16 fp32 fp64 bf16 int4 int8 int16 int32 int64 uint1 uint2 uint3 uint4 uint6
syntax keyword milDtype uint8 uint16 uint32 uint64 bool string fp8e4m3fn fp8e5m2
syntax keyword milBoolean true false
syntax keyword milSpecial BLOBFILE inf nan
syntax match milOp /\<\h\w*\ze\(<ios\d\+>\)\?\s*(/
syntax match milNumber /-\?\<0[xX]\x\+\(\.\x*\)\?[pP][+-]\?\d\+\>/
syntax match milNumber /-\?\<\d\+\(\.\d*\)\?\([eE][+-]\?\d\+\)\?\>/
syntax region milString start=/"/ skip=/\\./ end=/"/
syntax match milComment "//.*$"
highlight default link milKeyword Keyword
highlight default link milType Type
highlight default link milDtype Type
highlight default link milBoolean Boolean
highlight default link milSpecial Constant
highlight default link milOp Function
highlight default link milNumber Number
highlight default link milString String
highlight default link milComment Comment
let b:current_syntax = "mil"
