package filepush

// blocks is an append-only list kept in blocks of blockLen elements:
// appending never copies what the list holds, and it holds at most one
// block more than its elements. A job's 100,000 rows grown as one slice
// were copied about four times their size by reallocation, on the read's
// critical path (a sixth of an all-new push's CPU).
type blocks[T any] struct {
	bs [][]T
	n  int
}

const blockLen = 4096

func (b *blocks[T]) add(v T) {
	if b.n%blockLen == 0 {
		b.bs = append(b.bs, make([]T, 0, blockLen))
	}
	last := len(b.bs) - 1
	b.bs[last] = append(b.bs[last], v)
	b.n++
}

func (b *blocks[T]) len() int { return b.n }

// at returns the i-th element, in the order added.
func (b *blocks[T]) at(i int) *T { return &b.bs[i/blockLen][i%blockLen] }

// slice copies the list into one slice.
func (b *blocks[T]) slice() []T {
	out := make([]T, 0, b.n)
	for _, bl := range b.bs {
		out = append(out, bl...)
	}
	return out
}
