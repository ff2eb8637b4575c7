;; The words of seedrandom's alea stream, for fillSeeded (src/servers/fs.ts), which
;; embeds this module compiled (src/servers/alea-wasm.ts, `npm run wasm` remakes it).
;;
;; Alea's step on its seeds, in doubles, is t = 2091639 * s0 + c * 2^-32; c' = floor(t);
;; s2' = t - c'; and the word it gives is s2' * 2^32. Its seeds are always whole multiples
;; of 2^-32 (seedrandom's Mash makes them so, and the step keeps them so), so with x = s *
;; 2^32 the same step on integers is a multiply-with-carry: t = 2091639 * x0 + c, c' = t >> 32,
;; x2' = t mod 2^32, the word. In 64-bit integers the chain from one step to the next is an
;; add and a shift, where the doubles' is a multiply, an add and two conversions: about three
;; times faster here, with the same bytes.
(module
  ;; the words are made here, 1 MiB at a time, and copied out by the caller
  (memory (export "memory") 16)
  ;; the stream's state between calls: carry and the three seeds, as integers
  (global $c (export "c") (mut i64) (i64.const 0))
  (global $x0 (export "x0") (mut i64) (i64.const 0))
  (global $x1 (export "x1") (mut i64) (i64.const 0))
  (global $x2 (export "x2") (mut i64) (i64.const 0))
  ;; the next n words (n <= 262144) at [0, 4n), little-endian
  (func (export "fill") (param $n i32)
    (local $p i32) (local $end i32) (local $t i64)
    (local $c i64) (local $x0 i64) (local $x1 i64) (local $x2 i64)
    (local.set $c (global.get $c))
    (local.set $x0 (global.get $x0))
    (local.set $x1 (global.get $x1))
    (local.set $x2 (global.get $x2))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $t (i64.add (i64.mul (local.get $x0) (i64.const 2091639)) (local.get $c)))
        (local.set $c (i64.shr_u (local.get $t) (i64.const 32)))
        (local.set $x0 (local.get $x1))
        (local.set $x1 (local.get $x2))
        (local.set $x2 (i64.and (local.get $t) (i64.const 0xffffffff)))
        (i32.store (local.get $p) (i32.wrap_i64 (local.get $t)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    (global.set $c (local.get $c))
    (global.set $x0 (local.get $x0))
    (global.set $x1 (local.get $x1))
    (global.set $x2 (local.get $x2))))
