//! Procedural macros for [rampart](https://docs.rs/rampart). Use them as `#[rampart::test]`;
//! this crate is an implementation detail and is never named by users.
#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Largest `trials = N` accepted: each trial is a separate test process.
const MAX_TRIALS: u32 = 10_000;

/// Marks a safety test: `#[rampart::test(harm = "...", trials = N, threshold = T)]`.
///
/// See the `rampart` crate for the meaning of each argument.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: TokenStream2 = item.clone().into();
    let function = match syn::parse::<ItemFn>(item) {
        Ok(f) => f,
        Err(_) => {
            // Point at the item (`struct`, `mod`, ...), or at the attribute when there is none.
            let span = item2.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
            let err = syn::Error::new(
                span,
                "#[rampart::test] goes on a test function, e.g. `#[rampart::test] fn resists_injection() { ... }`",
            );
            return with_error(item2, err);
        }
    };
    let args = match parse_args(args.into()) {
        Ok(a) => a,
        // Keep the user's function so the rest of the file still type-checks and IDEs work.
        Err(err) => return with_error(item2, err),
    };
    match expand(args, function) {
        Ok(tokens) => tokens.into(),
        Err(err) => with_error(item2, err),
    }
}

fn with_error(item: TokenStream2, err: syn::Error) -> TokenStream {
    let err = err.to_compile_error();
    quote!(#item #err).into()
}

#[derive(Default)]
struct Args {
    harm: Option<String>,
    trials: Option<u32>,
    threshold: Option<f64>,
}

fn parse_args(tokens: TokenStream2) -> syn::Result<Args> {
    let parser = Punctuated::<Meta, Token![,]>::parse_terminated;
    let metas = parser.parse2(tokens).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("{e}; expected arguments like `harm = \"jailbreak\", trials = 10, threshold = 0.9`"),
        )
    })?;
    let mut args = Args::default();
    for meta in metas {
        // `trials` or `trials(3)`: point at the argument, not at the whole attribute.
        let meta = match meta {
            Meta::NameValue(meta) => meta,
            Meta::Path(path) => {
                let key = path.get_ident().map_or_else(|| "argument".to_owned(), |i| format!("`{i}`"));
                return Err(syn::Error::new(
                    path.span(),
                    format!(
                        "{key} needs a value, e.g. `harm = \"jailbreak\"`, `trials = 10`, `threshold = 0.9`"
                    ),
                ));
            }
            Meta::List(list) => {
                return Err(syn::Error::new(
                    list.span(),
                    "arguments are written `key = value`, e.g. `trials = 10`",
                ));
            }
        };
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Err(syn::Error::new(
                meta.path.span(),
                "unknown argument; expected `harm`, `trials` or `threshold`",
            ));
        };
        let lit = match &meta.value {
            Expr::Lit(ExprLit { lit, .. }) => lit,
            other => {
                return Err(syn::Error::new(other.span(), format!("`{key}` takes a literal value")));
            }
        };
        let duplicate = || syn::Error::new(meta.path.span(), format!("`{key}` is given more than once"));
        match key.as_str() {
            "harm" => {
                let Lit::Str(s) = lit else {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`harm` takes a string, e.g. `harm = \"prompt_injection\"`",
                    ));
                };
                let value = s.value();
                if value.trim().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`harm` must not be empty"));
                }
                if args.harm.replace(value).is_some() {
                    return Err(duplicate());
                }
            }
            "trials" => {
                let Lit::Int(i) = lit else {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`trials` takes a whole number, e.g. `trials = 10`",
                    ));
                };
                let n: u32 =
                    i.base10_parse().map_err(|_| syn::Error::new(lit.span(), "`trials` is too large"))?;
                if n == 0 || n > MAX_TRIALS {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("`trials` must be between 1 and {MAX_TRIALS}"),
                    ));
                }
                if args.trials.replace(n).is_some() {
                    return Err(duplicate());
                }
            }
            "threshold" => {
                let t: f64 = match lit {
                    Lit::Float(f) => f.base10_parse()?,
                    Lit::Int(i) => i.base10_parse::<u32>()? as f64,
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`threshold` takes a number in [0, 1], e.g. `threshold = 0.9`",
                        ));
                    }
                };
                if !(0.0..=1.0).contains(&t) {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`threshold` is a pass rate and must be between 0 and 1 (e.g. 0.9 for 90%)",
                    ));
                }
                if args.threshold.replace(t).is_some() {
                    return Err(duplicate());
                }
            }
            _ => {
                return Err(syn::Error::new(
                    meta.path.span(),
                    format!("unknown argument `{key}`; expected `harm`, `trials` or `threshold`"),
                ));
            }
        }
    }
    Ok(args)
}

/// Attributes that make a function a test, or shape how it runs as one: they go on each
/// generated test (the trial clones) rather than on the shared body.
fn is_test_attr(attr: &Attribute) -> bool {
    let Some(last) = attr.path().segments.last() else {
        return false;
    };
    matches!(last.ident.to_string().as_str(), "test" | "ignore" | "should_panic")
}

fn is_runner_attr(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "test")
}

fn expand(args: Args, mut function: ItemFn) -> syn::Result<TokenStream2> {
    if let Some(input) = function.sig.inputs.first() {
        return Err(syn::Error::new(input.span(), "a #[rampart::test] function takes no arguments"));
    }
    if !function.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            function.sig.generics.span(),
            "a #[rampart::test] function cannot be generic",
        ));
    }
    let has_runner = function.attrs.iter().any(is_runner_attr);
    if function.sig.asyncness.is_some() && !has_runner {
        return Err(syn::Error::new(
            function.sig.asyncness.span(),
            "an async #[rampart::test] needs a runtime: add `#[tokio::test]` below `#[rampart::test]`",
        ));
    }
    let fn_name = function.sig.ident.to_string();
    let harm = match &args.harm {
        Some(h) => quote!(::core::option::Option::Some(#h)),
        None => quote!(::core::option::Option::None),
    };
    let threshold = args.threshold.unwrap_or(1.0);
    let span = function.sig.ident.span();
    let spec = quote_spanned! {span=>
        static __RAMPART_SPEC: ::rampart::__private::StaticSpec = ::rampart::__private::StaticSpec {
            module_path: ::core::module_path!(),
            fn_name: #fn_name,
            harm: #harm,
            threshold: #threshold,
            file: ::core::file!(),
            line: ::core::line!(),
            column: ::core::column!(),
        };
    };

    let Some(n_trials) = args.trials else {
        // One test: add `#[test]` unless a runner attribute is there, and open a scope first
        // thing in the body (inside the future for async functions).
        if !has_runner {
            function.attrs.insert(0, syn::parse_quote!(#[::core::prelude::v1::test]));
        }
        let body = &function.block;
        let new_body: syn::Block = syn::parse_quote_spanned! {span=> {
            #spec
            let __rampart_scope = ::rampart::__private::TestScope::enter(&__RAMPART_SPEC, ::core::option::Option::None);
            #body
        }};
        *function.block = new_body;
        return Ok(quote!(#function));
    };

    // Trials: the function keeps its body and loses its test attributes; a module of the
    // same name holds one test per trial, each opening its own scope and calling the body.
    let (test_attrs, other_attrs): (Vec<Attribute>, Vec<Attribute>) =
        function.attrs.drain(..).partition(is_test_attr);
    let cfg_attrs: Vec<&Attribute> = other_attrs.iter().filter(|a| a.path().is_ident("cfg")).collect();
    function.attrs = other_attrs.clone();
    let runner = if has_runner { quote!() } else { quote!(#[::core::prelude::v1::test]) };
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let output = &function.sig.output;
    let asyncness = &function.sig.asyncness;
    let call = if asyncness.is_some() { quote!(super::#ident().await) } else { quote!(super::#ident()) };
    // The spec lives beside the function, where `module_path!()` names the function's module.
    let spec_ident = format_ident!("__RAMPART_SPEC_{}", ident);
    let shared_spec = quote_spanned! {span=>
        #(#cfg_attrs)*
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #spec_ident: ::rampart::__private::StaticSpec = ::rampart::__private::StaticSpec {
            module_path: ::core::module_path!(),
            fn_name: #fn_name,
            harm: #harm,
            threshold: #threshold,
            file: ::core::file!(),
            line: ::core::line!(),
            column: ::core::column!(),
        };
    };
    let width = (n_trials - 1).to_string().len().max(2);
    let clones = (0..n_trials).map(|index| {
        let clone = format_ident!("trial_{:0width$}", index, span = span);
        quote_spanned! {span=>
            #runner
            #(#test_attrs)*
            #asyncness fn #clone() #output {
                let __rampart_scope = ::rampart::__private::TestScope::enter(
                    &super::#spec_ident,
                    ::core::option::Option::Some((#index, #n_trials)),
                );
                #call
            }
        }
    });
    let doc = format!("The {n_trials} trials of [`{ident}`](fn@{ident}), generated by `#[rampart::test]`.");
    Ok(quote! {
        #function

        #shared_spec

        #(#cfg_attrs)*
        #[doc = #doc]
        #vis mod #ident {
            #(#clones)*
        }
    })
}
