package runner

import (
	"fmt"
	"strings"
)

// parseDotenv parses an env template's output: KEY=VALUE lines, as dotenv
// and Nomad (go-envparse) read them.
//
//   - blank lines and lines starting with # are skipped;
//   - an optional "export " prefix is allowed;
//   - keys are [A-Za-z_][A-Za-z0-9_]*; spaces around = are allowed;
//   - unquoted values end at the line's end or at " #", trailing blanks
//     trimmed;
//   - 'single quotes' keep everything literally;
//   - "double quotes" understand \n \r \t \" \\ \$ and may span lines;
//   - after a closing quote only blanks and a # comment may follow.
//
// A later line wins over an earlier one. Errors name the line number and
// never the value, which may be a secret.
func parseDotenv(src []byte) (map[string]string, error) {
	p := dotenvParser{s: strings.ReplaceAll(string(src), "\r\n", "\n"), line: 1}
	env := map[string]string{}
	for {
		p.skipBlankAndComments()
		if p.eof() {
			return env, nil
		}
		key, val, err := p.pair()
		if err != nil {
			return nil, err
		}
		env[key] = val
	}
}

type dotenvParser struct {
	s    string
	i    int
	line int
}

func (p *dotenvParser) eof() bool { return p.i >= len(p.s) }

func (p *dotenvParser) skipBlankAndComments() {
	for !p.eof() {
		switch c := p.s[p.i]; {
		case c == '\n':
			p.line++
			p.i++
		case c == ' ' || c == '\t':
			p.i++
		case c == '#':
			p.skipLine()
		default:
			return
		}
	}
}

func (p *dotenvParser) skipLine() {
	for !p.eof() && p.s[p.i] != '\n' {
		p.i++
	}
}

func (p *dotenvParser) skipSpaces() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *dotenvParser) errf(format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{p.line}, args...)...)
}

func (p *dotenvParser) pair() (string, string, error) {
	key := p.word()
	if key == "export" {
		p.skipSpaces()
		if !p.eof() && p.s[p.i] != '=' && p.s[p.i] != '\n' {
			key = p.word()
		}
	}
	// The messages never quote the line: a stray line may be a secret.
	if !validEnvKey(key) {
		return "", "", p.errf("not a KEY=VALUE line (names are letters, digits and _, not starting with a digit)")
	}
	p.skipSpaces()
	if p.eof() || p.s[p.i] != '=' {
		return "", "", p.errf("not a KEY=VALUE line (no =)")
	}
	p.i++
	p.skipSpaces()
	val, err := p.value(key)
	if err != nil {
		return "", "", err
	}
	return key, val, nil
}

func (p *dotenvParser) word() string {
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if c == '=' || c == ' ' || c == '\t' || c == '\n' || c == '#' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func validEnvKey(k string) bool {
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return k != ""
}

func (p *dotenvParser) value(key string) (string, error) {
	if p.eof() || p.s[p.i] == '\n' {
		return "", nil
	}
	switch p.s[p.i] {
	case '\'':
		return p.quoted(key, '\'')
	case '"':
		return p.quoted(key, '"')
	}
	start := p.i
	for !p.eof() && p.s[p.i] != '\n' {
		if p.s[p.i] == '#' && p.i > start && (p.s[p.i-1] == ' ' || p.s[p.i-1] == '\t') {
			break
		}
		p.i++
	}
	val := strings.TrimRight(p.s[start:p.i], " \t")
	p.skipLine()
	return val, nil
}

func (p *dotenvParser) quoted(key string, q byte) (string, error) {
	startLine := p.line
	p.i++ // opening quote
	var b strings.Builder
	for {
		if p.eof() {
			p.line = startLine
			return "", p.errf("value of %s: missing closing %c", key, q)
		}
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			p.skipSpaces()
			if !p.eof() && p.s[p.i] != '\n' && p.s[p.i] != '#' {
				return "", p.errf("value of %s: unexpected text after the closing %c", key, q)
			}
			p.skipLine()
			return b.String(), nil
		case c == '\\' && q == '"' && p.i+1 < len(p.s):
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$', '\'':
				b.WriteByte(e)
			case '\n':
				p.line++ // a line continuation
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			p.i++
		default:
			if c == '\n' {
				p.line++
			}
			b.WriteByte(c)
			p.i++
		}
	}
}
