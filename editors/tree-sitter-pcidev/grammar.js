/**
 * tree-sitter grammar of the .pcidev language, for editors (highlighting,
 * folding, structure). It mirrors dsl/src/grammar.pest, the compiler's
 * grammar, which stays the reference: `cargo xtask tree-sitter` parses every
 * spec and corpus file the compiler parses and fails on any ERROR or
 * MISSING node. A file may be a spec or an included fragment (device or
 * BAR items), so the top level takes all three.
 */

const PREC = {
  or: 1,
  and: 2,
  compare: 3,
  bit_or: 4,
  bit_xor: 5,
  bit_and: 6,
  shift: 7,
  add: 8,
  mul: 9,
  unary: 10,
};

const BINARY = [
  ['||', PREC.or],
  ['&&', PREC.and],
  ['==', PREC.compare],
  ['!=', PREC.compare],
  ['<', PREC.compare],
  ['>', PREC.compare],
  ['<=', PREC.compare],
  ['>=', PREC.compare],
  ['|', PREC.bit_or],
  ['^', PREC.bit_xor],
  ['&', PREC.bit_and],
  ['<<', PREC.shift],
  ['>>', PREC.shift],
  ['+', PREC.add],
  ['-', PREC.add],
  ['*', PREC.mul],
  ['/', PREC.mul],
  ['%', PREC.mul],
];

function commaSep1(rule) {
  return seq(rule, repeat(seq(',', rule)), optional(','));
}

module.exports = grammar({
  name: 'pcidev',

  extras: $ => [/\s/, '\uFEFF', $.comment],

  word: $ => $.identifier,

  rules: {
    source_file: $ => seq(
      optional($.language),
      repeat(choice($.device, $._device_item, $._bar_only_item)),
    ),

    language: $ => seq('language', $.number, ';'),
    include: $ => seq('include', $.string, ';'),

    device: $ => seq('device', field('name', $.identifier), '{', repeat($._device_item), '}'),

    _device_item: $ => choice(
      $.description, $.id_item, $.revision, $.class_item, $.subsystem,
      $.interrupt, $.state, $.hook, $.dma_buffer, $.bar, $.scenario, $.include,
      $.timer, $.stream, $.let_item, $.fn_item, $.config_block,
    ),

    description: $ => seq('description', $.string, ';'),
    id_item: $ => seq('id', $.number, ':', $.number, ';'),
    revision: $ => seq('revision', $.number, ';'),
    class_item: $ => seq('class', $.number, ':', $.number, ':', $.number, ';'),
    subsystem: $ => seq('subsystem', $.number, ':', $.number, ';'),

    interrupt: $ => seq('interrupt', '{', repeat(choice(
      $.pin_item, $.msi_item, $.msix_item, $.level_item, $.status_item, $.mine_item, $.ack_item,
    )), '}'),
    pin_item: $ => seq('pin', $.identifier, ';'),
    msi_item: $ => seq('msi', $.number, ';'),
    msix_item: $ => seq(
      'msix', $.number,
      'table', 'bar', $.number, '@', $.number,
      'pba', 'bar', $.number, '@', $.number, ';',
    ),
    level_item: $ => seq('level', $._expr, ';'),
    status_item: $ => seq('status', $.identifier, ';'),
    mine_item: $ => seq('mine', $._expr, ';'),
    ack_item: $ => seq('ack', $.identifier, '=', $._expr, optional(seq('when', $._expr)), ';'),

    state: $ => seq(
      'state', field('name', $.identifier), ':', $._type,
      optional(seq('=', choice($.number, $.boolean, $.string, $.strings_init, $.byte_list))),
      optional('sticky'),
      ';',
    ),
    strings_init: $ => seq('strings', '(', $.number, repeat1(seq(',', $.string)), optional(','), ')'),
    byte_list: $ => seq('[', optional(commaSep1($.number)), ']'),
    _type: $ => choice($.fifo_type, $.buffer_type, $.scalar_type),
    fifo_type: $ => seq('fifo', '[', $.scalar_type, ';', $.number, ']'),
    buffer_type: $ => seq('[', 'u8', ';', $.number, ']'),
    scalar_type: $ => choice('u8', 'u16', 'u32', 'u64', 'bool'),

    hook: $ => seq(
      'hook', field('name', $.identifier),
      '(', optional(commaSep1($.hook_param)), ')',
      optional(seq('->', $.scalar_type)), ';',
    ),
    hook_param: $ => seq(field('name', $.identifier), ':', $.scalar_type),

    dma_buffer: $ => seq('dma_buffer', $.number, ';'),

    // ------------------------------------------------------------ time, streams, named expressions
    timer: $ => seq('timer', field('name', $.identifier), $.block),
    stream: $ => seq('stream', field('name', $.identifier), choice(';', seq('{', repeat(choice($.ready_item, $.on_input)), '}'))),
    ready_item: $ => seq('ready', $._expr, ';'),
    on_input: $ => seq('on', 'input', $.block),
    let_item: $ => seq('let', field('name', $.identifier), '=', $._expr, ';'),
    fn_item: $ => seq(
      'fn', field('name', $.identifier),
      '(', optional(commaSep1($.hook_param)), ')',
      '->', $.scalar_type, '=', $._expr, ';',
    ),
    time_unit: _ => choice('ns', 'us', 'ms', 's'),

    bar: $ => seq(
      'bar', $.number, $.bar_kind, optional('prefetchable'), 'size', $.number,
      '{', repeat($._bar_item), '}',
    ),
    bar_kind: $ => choice('io', 'mem32', 'mem64'),
    _bar_item: $ => choice($._bar_only_item, $.include),
    _bar_only_item: $ => choice($.access_item, $.invalid_item, $.unmapped_item, $.register, $.window_item),
    window_item: $ => seq('window', field('state', $.identifier), '@', $.number, optional(choice('ro', 'rw')), ';'),
    unmapped_item: $ => seq('unmapped', choice('zero', 'ones'), ';'),
    access_item: $ => seq('access', repeat1($.number), optional('unaligned'), ';'),
    invalid_item: $ => seq('invalid', choice('ignore', 'ones', 'error'), ';'),

    register: $ => seq(
      'register', field('name', $.identifier), optional($.array_len),
      '@', $.number, ':', $.scalar_type, optional($.access_kind),
      optional(seq('=', $.number)),
      choice(';', seq('{', repeat($._reg_item), '}')),
    ),
    array_len: $ => seq('[', $.number, ']'),

    // ------------------------------------------------------------ configuration space
    config_block: $ => seq('config', '{', repeat(choice($.register, $.capability)), '}'),
    capability: $ => seq(
      'capability', field('kind', $.identifier), '@', $.number, 'size', $.number,
      '{', repeat($.register), '}',
    ),
    access_kind: $ => choice('rw', 'ro', 'wo', 'w1c', 'w1s', 'rclr'),
    _reg_item: $ => choice($.access_item, $.field, $.read_item, $.on_read, $.on_write),
    field: $ => seq(
      'field', field('name', $.identifier), $.bits, $.access_kind,
      optional(seq('=', $.number)),
      choice(';', seq('{', commaSep1($.enum_variant), '}', optional(';'))),
    ),
    bits: $ => seq('[', $.number, optional(seq(':', $.number)), ']'),
    enum_variant: $ => seq(field('name', $.identifier), '=', $.number),
    read_item: $ => seq('read', $._expr, ';'),
    on_read: $ => seq('on', 'read', $.block),
    on_write: $ => seq('on', 'write', $.block),

    // ------------------------------------------------------------ actions
    block: $ => seq('{', repeat($._stmt), '}'),
    _stmt: $ => choice(
      $.if_stmt, $.irq_stmt, $.msi_stmt, $.dma_stmt, $.start_stmt, $.stop_stmt,
      $.send_stmt, $.vmm_stmt, $.method_stmt, $.assign, $.call_stmt,
    ),
    start_stmt: $ => seq('start', $.identifier, choice('after', 'every'), $._expr, $.time_unit, ';'),
    stop_stmt: $ => seq('stop', $.identifier, ';'),
    send_stmt: $ => seq('send', $.identifier, $._expr, ';'),
    vmm_stmt: $ => seq('vmm', $.identifier, ';'),
    method_stmt: $ => seq($.identifier, '.', $.identifier, '(', optional($._expr), ')', ';'),
    if_stmt: $ => seq('if', $._expr, $.block, optional(seq('else', choice($.if_stmt, $.block)))),
    irq_stmt: $ => seq('irq', choice('raise', 'lower', 'pulse'), ';'),
    msi_stmt: $ => seq('msi', $._expr, ';'),
    dma_stmt: $ => seq('dma', choice($.dma_write, $.dma_read), optional(seq('status', $.place)), ';'),
    dma_write: $ => seq('write', 'addr', $._expr, 'len', $._expr, 'from', $._source),
    dma_read: $ => seq('read', 'addr', $._expr, 'len', $._expr, 'into', $.place),
    assign: $ => seq($.place, choice('=', '|=', '&=', '^=', '+=', '-='), $._expr, ';'),
    call_stmt: $ => seq($.call, ';'),

    _source: $ => choice($.random_src, $.pattern_src, $.word_src, $.place),
    random_src: $ => seq('random', '(', $._expr, ')'),
    pattern_src: $ => seq('pattern', '(', $._expr, ')'),
    word_src: $ => seq('word', '(', $._expr, ')'),

    place: $ => prec.right(seq(
      $.identifier,
      optional(choice(seq('.', $.identifier), seq('[', $._expr, ']'))),
    )),

    // ------------------------------------------------------------ expressions
    _expr: $ => choice(
      $.number, $.boolean, $.value, $.index, $.byte, $.dma_addr, $.access_prop, $.if_expr, $.call,
      $.place, $.paren, $.unary, $.binary,
    ),
    value: $ => 'value',
    index: $ => 'index',
    byte: $ => 'byte',
    dma_addr: $ => seq('dma', '.', 'addr'),
    // The current guest access: `access.size`, `access.mask`.
    access_prop: $ => seq('access', '.', choice('size', 'mask')),
    paren: $ => seq('(', $._expr, ')'),
    unary: $ => prec(PREC.unary, seq(choice('!', '-', '~'), $._expr)),
    binary: $ => choice(...BINARY.map(([op, p]) => prec.left(p, seq(
      field('left', $._expr), field('operator', op), field('right', $._expr),
    )))),
    if_expr: $ => seq(
      'if', $._expr, '{', $._expr, '}', 'else',
      choice($.if_expr, seq('{', $._expr, '}')),
    ),
    call: $ => seq(field('name', $.identifier), '(', optional(commaSep1($._expr)), ')'),

    // ------------------------------------------------------------ scenarios
    scenario: $ => seq(
      'scenario', field('name', $.identifier), optional($.string),
      '{', repeat($._step), '}',
    ),
    _step: $ => choice(
      $.expect_irq, $.expect_msi, $.expect_dma, $.expect_step, $.wait_step, $.write_step,
      $.read_step, $.invalid_step, $.fill_step, $.repeat_step, $.advance_step,
      $.input_step, $.expect_output, $.expect_vmm,
    ),
    repeat_step: $ => seq('repeat', $._expr, '{', repeat($._step), '}'),
    advance_step: $ => seq('advance', $._expr, $.time_unit, ';'),
    input_step: $ => seq('input', $.identifier, $.byte_data, ';'),
    expect_output: $ => seq('expect', 'output', $.identifier, $.byte_data, ';'),
    expect_vmm: $ => seq('expect', 'vmm', $.identifier, ';'),
    byte_data: $ => choice($.string, seq('[', optional(commaSep1($._expr)), ']')),
    probe_location: $ => choice($.raw_location, seq($.identifier, optional(seq('.', $.identifier)))),
    location: $ => choice($.raw_location, $.identifier),
    raw_location: $ => choice(
      seq('bar', $.number, '@', $.number, ':', $.scalar_type),
      seq('config', '@', $.number, ':', $.scalar_type),
    ),
    expect_irq: $ => seq('expect', optional('no'), 'irq', ';'),
    expect_msi: $ => seq('expect', 'msi', $.number, ';'),
    expect_dma: $ => seq('expect', $.dma_range, '==', $._source, ';'),
    fill_step: $ => seq('fill', $.dma_range, '=', $._source, ';'),
    dma_range: $ => seq('dma', '[', $._expr, '..', $._expr, ']'),
    expect_step: $ => seq('expect', $.probe_location, choice('==', '!='), $._expr, optional(seq('mask', $._expr)), ';'),
    wait_step: $ => seq('wait', $.probe_location, '==', $._expr, optional(seq('mask', $._expr)), ';'),
    write_step: $ => seq('write', $.location, '=', $._expr, ';'),
    read_step: $ => seq('read', $.location, ';'),
    invalid_step: $ => seq('invalid', choice(
      seq('write', $.location, '=', $._expr),
      seq('read', $.location),
    ), ';'),

    // ------------------------------------------------------------ lexemes
    identifier: _ => /[A-Za-z_][A-Za-z0-9_]*/,
    number: _ => token(choice(
      /0[xX][0-9a-fA-F][0-9a-fA-F_]*[KMG]?/,
      /0[bB][01][01_]*[KMG]?/,
      /[0-9][0-9_]*[KMG]?/,
    )),
    boolean: _ => choice('true', 'false'),
    string: $ => seq(
      '"',
      repeat(choice(token.immediate(prec(1, /[^"\\\n]+/)), $.escape_sequence)),
      token.immediate('"'),
    ),
    escape_sequence: _ => token.immediate(seq('\\', /./)),
    comment: _ => token(choice(
      seq('//', /[^\n]*/),
      seq('/*', /[^*]*\*+([^/*][^*]*\*+)*/, '/'),
    )),
  },
});
