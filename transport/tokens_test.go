package transport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tok = "0123456789abcdef0123456789abcdef"

func TestTokensFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join([]string{
		"# service tokens of the agent platform",
		"",
		"   " + tok + "   crm backend  ",
		tok + "x\tbilling",
		"\t",
		tok + "yz",
		"# " + tok + "q commented out",
	}, "\n")), 0o600))
	got, err := ReadTokensFile(path)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, ServiceToken{Token: tok, Label: "crm backend"}, got[0])
	assert.Equal(t, ServiceToken{Token: tok + "x", Label: "billing"}, got[1])
	assert.Regexp(t, `^sha256:[0-9a-f]{8}$`, got[2].Label, "no label: named by a digest, never the token")
	assert.NotContains(t, got[2].Label, tok[:8])
}

func TestTokensFileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ file, says string }{
		{"# nothing\n\n", "no token in the file"},
		{"\n" + tok[:31] + " short", "line 2: the token is 31 characters, at least 32"},
		{tok + " a\n" + tok + " b", "line 2: the same token as line 1"},
		{tok + " a\n" + tok + "x a", `line 2: the label "a" is already used on line 1`},
		{tok + "\x01 ctl", "line 1: the token holds a character"},
		{tok + "é", "line 1: the token holds a character"},
		{tok + " bad\x1blabel", "line 1: the label holds a control character"},
		{tok + " " + strings.Repeat("l", 101), "line 1: the label is longer than 100"},
		{tok + strings.Repeat("a", 70000), "token too long"},
		{tok + " " + tok, "line 1: the label holds a token (line 1's)"},
		{tok + "x label of " + tok + "y\n" + tok + "y", "line 1: the label holds a token (line 2's)"},
	} {
		_, err := parseTokens([]byte(tc.file))
		require.Error(t, err, tc.says)
		assert.Contains(t, err.Error(), tc.says)
		assert.NotContains(t, err.Error(), tok[:16], "never shows a token")
	}
	_, err := ReadTokensFile(filepath.Join(t.TempDir(), "absent"))
	assert.ErrorContains(t, err, "OUTLOOK_MCP_TOKENS_FILE")
}
