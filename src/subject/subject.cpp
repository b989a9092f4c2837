#include "subject/subject.h"

namespace nats {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Calls f(token) for each token (empty ones included); stops early when f returns false.
template <typename F>
bool each_token(std::string_view subject, F&& f) {
  size_t start = 0;
  for (size_t i = 0; i < subject.size(); ++i) {
    if (subject[i] == kTokenSep) {
      if (!f(subject.substr(start, i - start))) return false;
      start = i + 1;
    }
  }
  return f(subject.substr(start));
}

bool tokens_compatible(std::string_view a, std::string_view b) {
  return is_wildcard_token(a) || is_wildcard_token(b) || a == b;
}

}  // namespace

Tokens::Tokens(std::string_view subject) {
  if (subject.empty()) {
    data_ = inline_.data();
    return;
  }
  size_t n = 0;
  each_token(subject, [&](std::string_view t) {
    if (t.empty()) has_empty_ = true;
    if (n < kInline) {
      inline_[n] = t;
    } else {
      if (n == kInline) heap_.assign(inline_.begin(), inline_.end());
      heap_.push_back(t);
    }
    ++n;
    return true;
  });
  size_ = n;
  data_ = n > kInline ? heap_.data() : inline_.data();
}

bool is_valid_subject(std::string_view subject) {
  if (subject.empty()) return false;
  bool seen_fwc = false;
  return each_token(subject, [&](std::string_view t) {
    if (t.empty() || seen_fwc) return false;
    for (char c : t) {
      if (is_space(c)) return false;
    }
    if (is_full_wildcard(t)) seen_fwc = true;
    return true;
  });
}

bool is_valid_literal_subject(std::string_view subject) {
  if (subject.empty()) return false;
  return each_token(subject, [](std::string_view t) {
    if (t.empty() || is_wildcard_token(t)) return false;
    for (char c : t) {
      if (is_space(c)) return false;
    }
    return true;
  });
}

bool is_valid_queue_name(std::string_view queue) {
  if (queue.empty()) return false;
  for (char c : queue) {
    if (is_space(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool subject_has_wildcard(std::string_view subject) {
  return !each_token(subject, [](std::string_view t) { return !is_wildcard_token(t); });
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
  if (pattern.empty() || subject.empty()) return false;
  size_t p = 0, s = 0;
  for (;;) {
    size_t pe = pattern.find(kTokenSep, p);
    size_t se = subject.find(kTokenSep, s);
    std::string_view pt = pattern.substr(p, pe == std::string_view::npos ? pe : pe - p);
    std::string_view st = subject.substr(s, se == std::string_view::npos ? se : se - s);
    if (st.empty()) return false;
    if (is_full_wildcard(pt)) {
      // `>` takes this and all remaining tokens; none of them may be empty.
      if (se == std::string_view::npos) return true;
      return each_token(subject.substr(se + 1), [](std::string_view t) { return !t.empty(); });
    }
    if (!is_partial_wildcard(pt) && pt != st) return false;
    bool p_done = pe == std::string_view::npos, s_done = se == std::string_view::npos;
    if (p_done || s_done) return p_done && s_done;
    p = pe + 1;
    s = se + 1;
  }
}

bool subject_is_subset_match(std::string_view subject, std::string_view test) {
  Tokens sub(subject), tst(test);
  if (sub.empty() || tst.empty()) return false;
  for (size_t i = 0; i < tst.size(); ++i) {
    std::string_view t = tst[i];
    if (i >= sub.size() || t.empty()) return false;
    if (is_full_wildcard(t)) return !sub[i].empty();
    std::string_view s = sub[i];
    if (s.empty() || is_full_wildcard(s)) return false;
    if (is_partial_wildcard(s)) {
      if (!is_partial_wildcard(t)) return false;
      continue;
    }
    if (!is_partial_wildcard(t) && s != t) return false;
  }
  return sub.size() == tst.size();
}

bool subjects_collide(std::string_view a, std::string_view b) {
  if (a == b) return true;
  Tokens ta(a), tb(b);
  if (ta.empty() || tb.empty()) return false;
  size_t n = ta.size() < tb.size() ? ta.size() : tb.size();
  for (size_t i = 0; i < n; ++i) {
    if (ta[i].empty() || tb[i].empty()) return false;
    // A `>` on either side absorbs everything the other side has from here on, provided the
    // other side still has at least one token here (it does: i < n).
    if (is_full_wildcard(ta[i]) || is_full_wildcard(tb[i])) return true;
    if (!tokens_compatible(ta[i], tb[i])) return false;
  }
  return ta.size() == tb.size();
}

size_t num_tokens(std::string_view subject) {
  if (subject.empty()) return 0;
  size_t n = 1;
  for (char c : subject) n += c == kTokenSep;
  return n;
}

std::string_view token_at(std::string_view subject, size_t index) {
  std::string_view found;
  size_t i = 0;
  each_token(subject, [&](std::string_view t) {
    if (i++ == index) {
      found = t;
      return false;
    }
    return true;
  });
  return found;
}

}  // namespace nats
