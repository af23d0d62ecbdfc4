package cli

import (
	"strings"

	"github.com/lab-edu/lab/content"
)

// lessonLanguages are the languages lesson text is written in. A lesson
// without a translation is shown in English (content.Step falls back).
var lessonLanguages = []string{"en", "fr"}

// lessonLang decides the language of lesson text: the --lang flag if given,
// else LAB_LANG, else the locale (LC_ALL, then LC_MESSAGES, then LANG, as
// setlocale(3) reads them): "fr", "fr_FR.UTF-8" or "fr_CA" mean French,
// anything else English. An unknown --lang or LAB_LANG is an error, so a
// typo does not silently show English.
func lessonLang(flag string, getenv func(string) string) (string, error) {
	for _, v := range []struct{ name, value string }{{"--lang", flag}, {"LAB_LANG", getenv("LAB_LANG")}} {
		if v.value == "" {
			continue
		}
		lang := strings.ToLower(v.value)
		for _, known := range lessonLanguages {
			if lang == known {
				return lang, nil
			}
		}
		return "", FlagError("unknown language %q in %s: use en or fr", v.value, v.name)
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale := getenv(name); locale != "" {
			if strings.HasPrefix(strings.ToLower(locale), "fr") {
				return "fr", nil
			}
			return "en", nil
		}
	}
	return "en", nil
}

// sectionTitle is the heading a student sees for a lesson section. The
// Markdown files keep the English names (the parser keys on them); only
// the display is translated.
func sectionTitle(lang, section string) string {
	if lang == "fr" {
		if t, ok := frenchSections[section]; ok {
			return t
		}
	}
	return section
}

var frenchSections = map[string]string{
	content.Goal:        "Objectif",
	content.Background:  "Contexte",
	content.Task:        "À faire",
	content.Hints:       "Indices",
	content.Checks:      "Ce que vérifie le correcteur",
	content.Explanation: "Explication",
	content.Solution:    "Solution",
}
