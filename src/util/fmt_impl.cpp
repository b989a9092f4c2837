// fmt's compiled part, built into the server instead of linking libfmt.so: libfmt.so needs
// the shared libstdc++, whose pages (and those of its symbol tables) would then be resident
// in every server (see "Static dependencies" in CMakeLists.txt). The headers are Debian's
// libfmt-dev (9.x); this file only instantiates what libfmt.so would export for `char`.
// Compiled on its own (not in a unity batch): format-inl.h defines non-inline functions.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                                 locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
