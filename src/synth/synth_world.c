/* synth_world.c - the values of the synthetic world (synth_int.h): names
 * of channels and events, and the planted probabilities, shares and odds
 * multipliers. docs/generate.md mirrors them; truth.json reports them.
 *
 * Owns data only: no code, no state. Does not own how customers are drawn
 * (synth.c) nor the truth document (synth_truth.c). Change a number here
 * and the generated events and truth.json change with it, nothing else.
 */
#include "synth_int.h"

const char *const synth_channel_names[CH_N + 1] = {
    "app", "call", "chat", "email", "ivr", "sms", "store", "web", NULL};
const char *const synth_event_names[EV_N + 1] = {
    "add_to_cart", "billing_dispute", "billing_issue", "call_agent",
    "checkout", "churn", "fee_waiver_request", "internet_issue",
    "ivr_failure", "login", "nps_response", "offer_sent", "offer_signup",
    "password_reset", "payment", "product_view", "purchase", "tv_issue",
    "visit", NULL};
const double synth_fill_p[FILL_N] = {0.62, 0.25, 0.13};
const Choice synth_browse_choice = {3, {CH_WEB, CH_APP, CH_STORE}, {0.50, 0.35, 0.15}};
const Funnel synth_funnel_p[3] = {
    {CH_WEB, 0.70, 0.35, 0.35, 0.55, 0.75},
    {CH_APP, 0.75, 0.40, 0.45, 0.65, 0.85},
    {CH_STORE, 0.85, 0.30, 0.55, 0.80, 0.90},
};
const Choice synth_account_choice = {2, {CH_WEB, CH_APP}, {0.45, 0.55}};
const Choice synth_offer_choice = {3, {CH_APP, CH_EMAIL, CH_SMS}, {0.20, 0.50, 0.30}};
const double synth_offer_signup_p[CH_N] = {[CH_APP] = 0.07, [CH_EMAIL] = 0.03,
                                            [CH_SMS] = 0.11};
const uint8_t synth_offer_signup_ch[CH_N] = {[CH_APP] = CH_APP, [CH_EMAIL] = CH_WEB,
                                              [CH_SMS] = CH_WEB};
const Flagged synth_episodes[EP_N] = {
    [EP_BILLING_ISSUE] = {EV_BILLING_ISSUE, 0.30, 1.0},
    [EP_TV_ISSUE] = {EV_TV_ISSUE, 0.25, 1.0},
    [EP_INTERNET_ISSUE] = {EV_INTERNET_ISSUE, 0.28, 1.0},
    [EP_DISPUTE] = {EV_BILLING_DISPUTE, 0.07, 4.5},
    [EP_IVR] = {EV_IVR_FAILURE, 0.09, 3.0},
    [EP_FEE_WAIVER] = {EV_FEE_WAIVER, 0.12, 1.0},
};
const uint8_t synth_driver_ep[2] = {EP_DISPUTE, EP_IVR};
const Choice synth_issue_choice = {4, {CH_CALL, CH_CHAT, CH_APP, CH_WEB},
                                    {0.35, 0.25, 0.20, 0.20}};
const Choice synth_dispute_choice = {2, {CH_CALL, CH_CHAT}, {0.70, 0.30}};
const Choice synth_waiver_choice = {3, {CH_APP, CH_CALL, CH_CHAT}, {0.40, 0.30, 0.30}};
const Choice synth_survey_choice = {2, {CH_EMAIL, CH_SMS}, {0.60, 0.40}};
const uint16_t synth_nps_pmf[CH_N][11] = {
    [CH_APP] = {20, 15, 20, 30, 40, 60, 90, 170, 220, 185, 150},
    [CH_CALL] = {60, 50, 60, 80, 90, 110, 130, 140, 120, 90, 70},
    [CH_CHAT] = {5, 5, 5, 10, 15, 20, 40, 90, 180, 300, 330},
};
const Choice synth_churn_choice = {2, {CH_CALL, CH_WEB}, {0.60, 0.40}};
const Segment synth_segments[2] = {
    {"consumer", 0.78, 2000, 12000},
    {"business", 0.22, 8000, 20000},
};
