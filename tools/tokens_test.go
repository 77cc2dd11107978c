package tools

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tiktoken-go/tokenizer"
)

var (
	o200kOnce  sync.Once
	o200kCodec tokenizer.Codec
	o200kErr   error
)

// o200k counts tokens as OpenAI's o200k_base tokenizer does: the measure
// of the targets, against which the server's cheap estimate is
// checked. Test-only: the tokenizer's tables stay out of the binary.
func o200k(t testing.TB, s string) int {
	o200kOnce.Do(func() { o200kCodec, o200kErr = tokenizer.Get(tokenizer.O200kBase) })
	require.NoError(t, o200kErr)
	n, err := o200kCodec.Count(s)
	require.NoError(t, err)
	return n
}

func TestO200kCountsTokens(t *testing.T) {
	require.Equal(t, 2, o200k(t, "Hello world"))
}
