package transport

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unicode"
)

// ServiceToken is a bearer token a backend presents instead of the Nango
// secret key (--auth nango), with the label the audit log names it by.
type ServiceToken struct {
	Token string
	Label string
}

// maxLabelLength bounds a token's label.
const maxLabelLength = 100

// ReadTokensFile reads OUTLOOK_MCP_TOKENS_FILE: one token per line,
// optionally followed by whitespace and a label; blank lines and lines
// starting with # are ignored. Tokens are at least 32 characters. A token
// without a label is named by the start of its SHA-256. Errors name the
// line, never the token.
func ReadTokensFile(path string) ([]ServiceToken, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("OUTLOOK_MCP_TOKENS_FILE: %w", err)
	}
	tokens, err := parseTokens(data)
	if err != nil {
		return nil, fmt.Errorf("OUTLOOK_MCP_TOKENS_FILE %s: %w", path, err)
	}
	return tokens, nil
}

func parseTokens(data []byte) ([]ServiceToken, error) {
	var out []ServiceToken
	tokenLine, labelLine := map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		token, label, _ := strings.Cut(strings.Map(tabToSpace, line), " ")
		label = strings.TrimSpace(label)
		switch {
		case len(token) < minTokenLength:
			return nil, fmt.Errorf("line %d: the token is %d characters, at least %d are needed (make one with: openssl rand -hex 32)", n, len(token), minTokenLength)
		case strings.IndexFunc(token, notTokenChar) >= 0:
			return nil, fmt.Errorf("line %d: the token holds a character that cannot travel in an HTTP header: use printable ASCII (openssl rand -hex 32)", n)
		case tokenLine[token] > 0:
			return nil, fmt.Errorf("line %d: the same token as line %d", n, tokenLine[token])
		case len(label) > maxLabelLength:
			return nil, fmt.Errorf("line %d: the label is longer than %d characters", n, maxLabelLength)
		case strings.IndexFunc(label, unicode.IsControl) >= 0:
			return nil, fmt.Errorf("line %d: the label holds a control character", n)
		}
		if label == "" {
			sum := sha256.Sum256([]byte(token))
			label = "sha256:" + hex.EncodeToString(sum[:4])
		}
		if labelLine[label] > 0 {
			return nil, fmt.Errorf("line %d: the label %q is already used on line %d: the audit log could not tell them apart", n, label, labelLine[label])
		}
		tokenLine[token], labelLine[label] = n, n
		out = append(out, ServiceToken{Token: token, Label: label})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after %d tokens: %w", len(out), err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no token in the file: write one per line (make one with: openssl rand -hex 32)")
	}
	// Labels reach the logs: none may carry a token.
	for _, l := range out {
		for _, t := range out {
			if strings.Contains(l.Label, t.Token) {
				return nil, fmt.Errorf("line %d: the label holds a token (line %d's): labels are logged, tokens never", labelLine[l.Label], tokenLine[t.Token])
			}
		}
	}
	return out, nil
}

func tabToSpace(r rune) rune {
	if r == '\t' {
		return ' '
	}
	return r
}

func notTokenChar(r rune) bool { return r <= ' ' || r > '~' }
