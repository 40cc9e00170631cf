; Highlighting of .pcidev specs (nvim-treesitter / Helix capture names).

(comment) @comment
(string) @string
(escape_sequence) @string.escape
(number) @number
(boolean) @boolean

[
  "language" "include" "device" "description" "id" "revision" "class"
  "subsystem" "interrupt" "pin" "msi" "msix" "table" "pba" "level" "status" "mine" "ack" "when" "state"
  "strings" "hook" "dma_buffer" "bar" "size" "prefetchable" "unmapped" "window"
  "access" "unaligned" "invalid" "register" "field" "read" "write" "on"
  "irq" "dma" "addr" "len" "from" "into" "random" "pattern" "word"
  "scenario" "expect" "wait" "fill" "mask" "no"
  "timer" "stream" "ready" "input" "let" "fn" "start" "stop" "after" "every"
  "send" "vmm" "sticky" "fifo" "repeat" "advance" "output" "config"
  "capability"
] @keyword

(time_unit) @type.builtin
(fifo_type "fifo" @type.builtin)

["if" "else"] @keyword.conditional

[
  "zero" "ones" "ignore" "error" "raise" "lower" "pulse"
] @constant.builtin

(scalar_type) @type.builtin
(buffer_type "u8" @type.builtin)
(bar_kind) @type
(access_kind) @attribute

(value) @variable.builtin
(index) @variable.builtin
(byte) @variable.builtin
(dma_addr) @variable.builtin
(access_prop) @variable.builtin

(device name: (identifier) @module)
(register name: (identifier) @constant)
(capability kind: (identifier) @type)
(field name: (identifier) @property)
(enum_variant name: (identifier) @constant)
(state name: (identifier) @variable)
(hook name: (identifier) @function)
(fn_item name: (identifier) @function)
(let_item name: (identifier) @constant)
(timer name: (identifier) @variable)
(stream name: (identifier) @variable)
(hook_param name: (identifier) @variable.parameter)
(call name: (identifier) @function.call)
(scenario name: (identifier) @label)
(place "." (identifier) @property)

[
  "=" "|=" "&=" "^=" "+=" "-=" "==" "!=" "<" ">" "<=" ">=" "||" "&&"
  "|" "^" "&" "<<" ">>" "+" "-" "*" "/" "%" "!" "~" "->" ".." "@"
] @operator

["{" "}" "(" ")" "[" "]"] @punctuation.bracket
[";" "," ":" "."] @punctuation.delimiter
