package vaultauth

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestTokenNeverPrintsItsSecret(t *testing.T) {
	t.Parallel()
	tok := Token{secret: "hvs.VERYSECRET", Generation: 3, Policies: []string{"web"}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "token", tok)
	for _, s := range []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q %x", tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v", []Token{tok}), fmt.Sprintf("%+v", struct{ T Token }{tok}), buf.String(),
	} {
		if strings.Contains(s, "VERYSECRET") || strings.Contains(s, "5645") {
			t.Errorf("printed the secret: %s", s)
		}
	}
	if tok.Secret() != "hvs.VERYSECRET" {
		t.Error("Secret() must return the token")
	}
	if got := fmt.Sprint(tok); got != "vault token #3" {
		t.Errorf("String() = %q", got)
	}
	if !(Token{}).IsZero() || fmt.Sprint(Token{}) != "no vault token" {
		t.Error("zero token")
	}
}
